<?php
/**
 * Router for PHP's built-in web server: serves a local MediaWiki the way Apache
 * serves Commons, for the integration tests. tests/mediawiki/wiki.py starts it as
 *
 *     php -S 127.0.0.1:PORT -t WORKDIR/htdocs tests/mediawiki/router.php
 *
 * with MW_INSTALL_PATH (MediaWiki's code) and MW_CONFIG_FILE (the test wiki's
 * LocalSettings.php) in the environment. URL layout, as on Commons:
 *
 *   /w/api.php, /w/index.php, /w/load.php, /w/rest.php/...   entry points
 *   /w/resources/..., /w/skins/..., /w/extensions/...       static assets
 *   /wiki/Title                                             articles ($wgArticlePath)
 *   /images/a/ab/File.jpg                                   originals (htdocs/images)
 *   /images/thumb/a/ab/File.jpg/1280px-File.jpg             thumbnails, rendered on the
 *                                                           first request by thumb_handler.php
 *
 * Entry points are required at the top level, never inside a function:
 * MediaWiki's setup code expects its variables to be globals.
 */

$install = getenv('MW_INSTALL_PATH') ?: '/usr/share/mediawiki';
$path = rawurldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) ?? '/');

// Files that exist under the document root (uploads, rendered thumbnails) are
// sent by the built-in server itself, which also refuses paths leaving the root.
if (str_starts_with($path, '/images/') && is_file($_SERVER['DOCUMENT_ROOT'] . $path)) {
    return false;
}

$entry = null;
$scriptName = null;
$pathInfo = null;
if (str_starts_with($path, '/images/thumb/')) {
    // A thumbnail not rendered yet: thumb.php reads its parameters from REQUEST_URI.
    $entry = 'thumb_handler.php';
    $scriptName = '/w/thumb_handler.php';
} elseif ($path === '/' || str_starts_with($path, '/wiki/')) {
    // index.php finds the title in REQUEST_URI through $wgArticlePath.
    $entry = 'index.php';
    $scriptName = '/w/index.php';
} elseif (preg_match('#^/w/([a-z_]+\.php)(/.*)?$#', $path, $match)) {
    $entry = $match[1];
    $scriptName = '/w/' . $match[1];
    $pathInfo = $match[2] ?? null;
} elseif (str_starts_with($path, '/w/')) {
    send_static_asset($install, substr($path, 3));
    return true;
}

if ($entry === null || !is_file("$install/$entry")) {
    http_response_code(404);
    header('Content-Type: text/plain; charset=utf-8');
    echo "Not found: $path\n";
    return true;
}

$_SERVER['SCRIPT_FILENAME'] = "$install/$entry";
$_SERVER['SCRIPT_NAME'] = $scriptName;
$_SERVER['PHP_SELF'] = $scriptName . ($pathInfo ?? '');
if ($pathInfo !== null) {
    $_SERVER['PATH_INFO'] = $pathInfo;
}
chdir($install);
require "$install/$entry";
return true;

/**
 * Sends a file of MediaWiki's code tree (CSS, JS, images, fonts) with its content type;
 * anything outside the asset folders, or missing, is a 404.
 */
function send_static_asset(string $install, string $relative): void
{
    $types = [
        'css' => 'text/css', 'js' => 'text/javascript', 'json' => 'application/json',
        'png' => 'image/png', 'gif' => 'image/gif', 'jpg' => 'image/jpeg', 'svg' => 'image/svg+xml',
        'ico' => 'image/x-icon', 'woff' => 'font/woff', 'woff2' => 'font/woff2',
    ];
    $file = realpath("$install/$relative");
    $allowed = false;
    // extensions/ holds symlinks into extensions-core/ on Debian.
    foreach (['resources', 'skins', 'extensions', 'extensions-core'] as $folder) {
        $root = realpath("$install/$folder");
        $inside = $file !== false && $root !== false && str_starts_with($file, "$root/");
        $allowed = $allowed || $inside;
    }
    $type = $types[strtolower(pathinfo((string)$file, PATHINFO_EXTENSION))] ?? null;
    if (!$allowed || $type === null || !is_file($file)) {
        http_response_code(404);
        header('Content-Type: text/plain; charset=utf-8');
        echo "Not found: /w/$relative\n";
        return;
    }
    header("Content-Type: $type");
    header('Content-Length: ' . filesize($file));
    readfile($file);
}
