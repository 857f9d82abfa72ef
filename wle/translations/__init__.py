"""The interface's translations: one gettext catalog per language, loaded by Flask-Babel.

    messages.pot   every message of the templates and the Python sources (babel.cfg says where)
    kk/            Kazakh in Cyrillic script
    kk@latin/      Kazakh in Latin script: made from kk/ by ``wle.translations.kazakh_latin``, never by hand
    ru/            Russian

English has no catalog: the messages are English. Each ``.po`` has its compiled ``.mo`` beside it,
committed, so that an installed package needs no build step. After changing what people read:

    pybabel extract -F babel.cfg -o wle/translations/messages.pot --sort-by-file --no-wrap .
    pybabel update -i wle/translations/messages.pot -d wle/translations -l kk
    pybabel update -i wle/translations/messages.pot -d wle/translations -l ru
    # translate what is new or marked fuzzy in kk/ and ru/, then:
    python -m wle.translations.kazakh_latin
    pybabel compile -d wle/translations --statistics

``tests/test_translations.py`` fails while a message is missing, empty or fuzzy in any catalog,
while a translation's placeholders or HTML differ from the message's, or while a ``.mo`` is stale.

Words used throughout (English — Kazakh — Russian): contest — байқау — конкурс; entry — жұмыс —
работа; round — кезең — тур; juror — қазы — член жюри (jury: қазылар — жюри); vote — дауыс — голос;
organizer — ұйымдастырушы — организатор; uploader — жүктеуші — участник; score — ұпай — балл;
protected site — қорғалатын аумақ — охраняемая территория; category — санат — категория;
thumbnail — нобай — миниатюра; sync — синхрондау — синхронизация; Commons — Ортаққор — Викисклад;
Wikimedia — Уикимедиа — Викимедиа; background job — фондық тапсырма — фоновая задача (a juror's task is
тапсырма — задание). Never glue a case ending onto a placeholder ("%(max)s-ке"): rephrase ("1 мен %(max)s
аралығында"); a "Review" that is both a button and a title gets a pgettext context.
"""
