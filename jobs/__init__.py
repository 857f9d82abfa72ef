"""Background jobs: the RQ entry points. Each opens a session, calls into ``wle``, records progress.

With ``WLE_REDIS_URL`` set they run in RQ workers (``wle worker``); without it, in threads of the
process that queued them, so the platform works with no services at all.
"""
