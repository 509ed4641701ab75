#!/usr/bin/env python3
"""Drives the web interface in headless Chromium (Selenium) for ui_test.sh.

  ui_browser.py BASE OUTDIR

Prints one "ok   - ..." or "FAIL - ..." line per check, "# ..." lines with
figures, and writes screenshots and the ended session's cookie (for the
suite to try after logout) under OUTDIR.
"""
import json
import os
import re
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

BASE, OUT = sys.argv[1], sys.argv[2]
HOST = BASE.split('://', 1)[1]
failed = 0


def check(name, cond, detail=''):
    global failed
    if cond:
        print(f'ok   - {name}', flush=True)
    else:
        failed += 1
        print(f'FAIL - {name}{" (" + str(detail)[:300] + ")" if detail else ""}', flush=True)


def new_driver(width=1280, height=900):
    o = webdriver.ChromeOptions()
    for a in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu',
              '--ignore-certificate-errors', f'--window-size={width},{height}',
              '--disable-extensions', '--no-first-run', f'--user-data-dir={OUT}/chrome-profile-{width}'):
        o.add_argument(a)
    o.binary_location = '/usr/bin/chromium'
    d = webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=o)
    d.set_page_load_timeout(30)
    d.set_script_timeout(30)
    return d


def waited(d, cond, timeout=10):
    """Whether cond(driver) came true within timeout (no exception)."""
    try:
        WebDriverWait(d, timeout).until(cond)
        return True
    except TimeoutException:
        return False


def wait(d, css, timeout=15):
    return WebDriverWait(d, timeout).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))


def loaded(d, value=None, timeout=15):
    def ok(drv):
        v = drv.find_element(By.ID, 'main').get_attribute('data-loaded')
        return v is not None and (value is None or v == value)
    WebDriverWait(d, timeout).until(ok)


def shot(d, name):
    d.save_screenshot(os.path.join(OUT, name))


def login(d, user, password):
    d.get(BASE + '/ui/')
    wait(d, '#login')
    d.find_element(By.ID, 'user').send_keys(user)
    d.find_element(By.ID, 'password').send_keys(password + Keys.ENTER)


def texts(d, css):
    return [e.text for e in d.find_elements(By.CSS_SELECTOR, css)]


def fetch(d, path, method='GET', headers=None):
    return d.execute_async_script('''
      const [path, method, headers, done] = arguments;
      fetch(path, {method, headers, credentials: 'same-origin'})
        .then(async (r) => done({status: r.status, body: await r.text()}))
        .catch((e) => done({status: 0, body: String(e)}));''', path, method, headers or {})


d = new_driver()
try:
    d.execute_cdp_cmd('Browser.grantPermissions', {
        'origin': BASE, 'permissions': ['clipboardReadWrite', 'clipboardSanitizedWrite']})
except Exception as e:  # an older Chromium without the permission names
    print(f'# clipboard permissions not granted: {e}')

try:
    # Login page, reached from / as a browser.
    d.get(BASE + '/')
    wait(d, '#login')
    check('/ in a browser lands on /ui/', d.current_url == BASE + '/ui/', d.current_url)
    shot(d, 'login.png')
    login(d, 'alice', 'wrong')
    WebDriverWait(d, 10).until(lambda drv: drv.find_element(By.ID, 'login-error').text)
    check('a wrong password shows a clear error', 'wrong user name or password' in
          d.find_element(By.ID, 'login-error').text, d.find_element(By.ID, 'login-error').text)

    # Alice's repositories.
    t0 = time.monotonic()
    login(d, 'alice', 'alicepass')
    wait(d, '#repos li')
    loaded(d)
    names = texts(d, '#repos a.repo')
    check('alice sees alice/app, alice/evil and public/base',
          all(n in names for n in ('alice/app', 'alice/evil', 'public/base')), names)
    check('alice sees none of bob\'s repositories', not any(n.startswith('bob/') for n in names), names)
    check('alice sees none of the load/ repositories', not any(n.startswith('load/') for n in names), names)
    check('the header names the user', d.find_element(By.ID, 'who').text == 'alice')
    shot(d, 'repositories.png')

    # The session cookie: HttpOnly, SameSite=Strict, /ui/ only; nothing for scripts.
    c = d.get_cookie('berth_ui')
    check('session cookie is HttpOnly, SameSite=Strict, Path=/ui/, Secure',
          c and c.get('httpOnly') and c.get('sameSite') == 'Strict' and c.get('path') == '/ui/'
          and c.get('secure'), c)
    check('scripts cannot read the session',
          'berth_ui' not in d.execute_script('return document.cookie') and
          d.execute_script('return localStorage.length + sessionStorage.length') == 0)
    with open(os.path.join(OUT, 'alice.cookie'), 'w') as f:
        f.write(c['value'] if c else '')

    # Search.
    search = d.find_element(By.ID, 'search')
    search.send_keys('EVIL' + Keys.ENTER)
    WebDriverWait(d, 10).until(lambda drv: texts(drv, '#repos a.repo') == ['alice/evil'])
    check('search filters the list (case-insensitive)', texts(d, '#repos a.repo') == ['alice/evil'])
    d.get(BASE + '/ui/#/?q=secret')
    loaded(d)
    check('searching for bob\'s name shows nothing and says so',
          texts(d, '#repos a.repo') == [] and 'No repository' in d.find_element(By.ID, 'empty').text)

    # Keyboard: Tab reaches the links and buttons, with a visible focus style.
    d.get(BASE + '/ui/#/')
    loaded(d)
    body = d.find_element(By.TAG_NAME, 'body')
    tags, outlines = [], []
    for _ in range(5):
        body.send_keys(Keys.TAB)
        tags.append(d.execute_script('return document.activeElement.tagName'))
        outlines.append(d.execute_script('return getComputedStyle(document.activeElement).outlineStyle'))
    check('Tab moves through the search field, its button and the links',
          tags == ['INPUT', 'BUTTON', 'A', 'A', 'A'], tags)
    check('every focused element has an outline', 'none' not in outlines, outlines)

    # A repository: tags with digest, size, platforms.
    d.find_element(By.LINK_TEXT, 'alice/app').click()
    wait(d, '#tags')
    loaded(d)
    WebDriverWait(d, 10).until(lambda drv: all(
        r.find_elements(By.TAG_NAME, 'td')[1].text for r in drv.find_elements(By.CSS_SELECTOR, '#tags tbody tr')))
    rows = {r.get_attribute('data-tag'): [td.text for td in r.find_elements(By.TAG_NAME, 'td')]
            for r in d.find_elements(By.CSS_SELECTOR, '#tags tbody tr')}
    check('alice/app lists tags v1, v2, multi', sorted(rows) == ['multi', 'v1', 'v2'], rows)
    check('tags show a digest and a size', rows.get('v1', ['', ''])[1].startswith('sha256:') and
          'KiB' in rows.get('v1', ['', '', ''])[2], rows.get('v1'))
    check('the index tag\'s size sums its two images', rows.get('multi', ['', '', ''])[2].endswith('KiB') and
          float(rows['multi'][2].split()[0]) > float(rows['v1'][2].split()[0]), (rows.get('multi'), rows.get('v1')))
    check('tags show their push time', len(rows.get('v1', [])) > 4 and
          re.match(r'20\d\d-\d\d-\d\d \d\d:\d\d$', rows['v1'][4]), rows.get('v1'))
    check('the index tag shows its platforms', 'linux/amd64' in rows.get('multi', [''] * 4)[3] and
          'linux/arm64' in rows.get('multi', [''] * 4)[3], rows.get('multi'))
    shot(d, 'repository.png')

    # The index and one of its images: platforms, layers, config.
    d.find_element(By.LINK_TEXT, 'multi').click()
    loaded(d, 'image')
    plats = texts(d, '#platforms a')
    check('the index page lists linux/amd64 and linux/arm64', plats == ['linux/amd64', 'linux/arm64'], plats)
    d.find_element(By.LINK_TEXT, 'linux/arm64').click()
    WebDriverWait(d, 10).until(lambda drv: drv.find_elements(By.CSS_SELECTOR, '#layers tbody tr'))
    loaded(d, 'image')
    layers = [[td.text for td in r.find_elements(By.TAG_NAME, 'td')]
              for r in d.find_elements(By.CSS_SELECTOR, '#layers tbody tr')]
    check('the arm64 image shows its one layer with digest and size',
          len(layers) == 1 and layers[0][1].startswith('sha256:') and 'KiB' in layers[0][2], layers)
    cfg = d.find_element(By.ID, 'config').text
    check('the config shows platform, entrypoint, env and history',
          all(s in cfg for s in ('linux/arm64', '/bin/app', 'MODE=test', 'ADD app /bin/app')), cfg)
    shot(d, 'image.png')

    # Pull commands and copying one.
    d.get(BASE + '/ui/#/r/alice/app/m/v1')
    loaded(d, 'image')
    cmds = {e.get_attribute('data-tool'): e.get_attribute('value') for e in d.find_elements(By.CSS_SELECTOR, 'input.cmd')}
    check('pull commands for podman, docker and ctr', cmds == {
        'podman': f'podman pull {HOST}/alice/app:v1', 'docker': f'docker pull {HOST}/alice/app:v1',
        'containerd': f'ctr images pull {HOST}/alice/app:v1'}, cmds)
    d.find_element(By.CSS_SELECTOR, 'button[data-copy=podman]').click()
    WebDriverWait(d, 5).until(lambda drv: drv.find_element(By.ID, 'status').text)
    check('Copy says what it copied', d.find_element(By.ID, 'status').text == f'Copied: podman pull {HOST}/alice/app:v1',
          d.find_element(By.ID, 'status').text)
    clip = d.execute_async_script('const done = arguments[0]; navigator.clipboard.readText().then(done, (e) => done("ERR " + e));')
    check('the clipboard holds the podman command', clip == f'podman pull {HOST}/alice/app:v1', clip)

    # Labels with HTML are text, and their script never runs.
    d.get(BASE + '/ui/#/r/alice/evil/m/v1')
    loaded(d, 'image')
    labels = d.find_element(By.ID, 'labels').text
    check('HTML in labels shows as literal text', '<script>window.__pwned=1</script>' in labels and
          '<img src=x onerror=window.__pwned=2>' in labels, labels)
    check('no script from a label ran', d.execute_script('return window.__pwned === undefined'))
    check('no element came from a label', not d.find_elements(By.CSS_SELECTOR, '#labels script, #labels img, main script'))
    shot(d, 'labels.png')

    # More tags than one page: the first 200, then the rest on request.
    d.get(BASE + '/ui/#/r/alice/many')
    loaded(d, '200', timeout=90)
    more = d.find_element(By.ID, 'more-tags')
    check('alice/many shows 200 tags and a More tags button',
          len(d.find_elements(By.CSS_SELECTOR, '#tags tbody tr')) == 200 and more.is_displayed())
    more.click()
    loaded(d, '205', timeout=90)
    names = [r.get_attribute('data-tag') for r in d.find_elements(By.CSS_SELECTOR, '#tags tbody tr')]
    check('More tags adds the other 5 and then hides', names == [f't{i:03d}' for i in range(205)] and
          not d.find_element(By.ID, 'more-tags').is_displayed(), names[-8:])

    # Usage and quota of her namespace, from the header link.
    d.find_element(By.ID, 'usage-link').click()
    loaded(d, 'usage')
    rows = [[c.text for c in r.find_elements(By.CSS_SELECTOR, 'th, td')]
            for r in d.find_elements(By.CSS_SELECTOR, '#usage tbody tr')]
    check('the usage page shows alice\'s namespace, its quota and share',
          len(rows) == 1 and rows[0][0] == 'alice' and rows[0][2] == '1.0 GiB' and rows[0][3].endswith('%')
          and d.find_elements(By.CSS_SELECTOR, '#usage meter'), rows)
    shot(d, 'usage.png')

    # Deleting a tag in alice's namespace.
    d.get(BASE + '/ui/#/r/alice/app')
    loaded(d)
    d.find_element(By.CSS_SELECTOR, 'button[data-tag=v2]').click()
    WebDriverWait(d, 5).until(EC.alert_is_present())
    d.switch_to.alert.accept()
    check('deleting tag v2 removes it from the page',
          waited(d, lambda drv: not drv.find_elements(By.CSS_SELECTOR, 'tr[data-tag=v2]')),
          d.find_element(By.ID, 'status').text)
    d.refresh()
    loaded(d)
    check('after a reload v2 is still gone',
          sorted(r.get_attribute('data-tag') for r in d.find_elements(By.CSS_SELECTOR, '#tags tbody tr')) == ['multi', 'v1'])

    # public/: no delete button, and the API refuses with a message.
    d.get(BASE + '/ui/#/r/public/base')
    loaded(d)
    check('public/base shows its tag but no delete button',
          d.find_elements(By.CSS_SELECTOR, 'tr[data-tag=v1]') and not d.find_elements(By.CSS_SELECTOR, 'button.danger'))
    csrf = d.execute_async_script('const done = arguments[0]; fetch("/ui/api/session").then((r) => r.json()).then((j) => done(j.csrf));')
    r = fetch(d, '/ui/api/v2/public/base/manifests/v1', 'DELETE', {'X-CSRF-Token': csrf})
    check('deleting in public/ from the page is refused with a message',
          r['status'] == 403 and 'not allowed' in r['body'], r)
    r = fetch(d, '/ui/api/v2/alice/app/manifests/v1', 'DELETE')
    check('a delete without the CSRF header is refused', r['status'] == 403 and 'CSRF' in r['body'], r)

    # The pure module, tested in the page that loads it.
    results = d.execute_async_script('''
      const done = arguments[0];
      import('/ui/lib.js').then((L) => done({
        size: [L.formatSize(0), L.formatSize(1536), L.formatSize(10 * 1048576), L.formatSize(-1)],
        plat: [L.platformName({os: 'linux', architecture: 'arm64', variant: 'v8'}), L.platformName(null)],
        pull: L.pullCommands('h:1', 'a/b', 'sha256:ab').podman,
        hash: [L.parseHash('#/r/a/b%20c/m/v1'), L.parseHash('#/?q=x%26y'), L.parseHash('')],
        plats: L.platforms({manifests: [{platform: {os: 'linux', architecture: 'amd64'}},
                                        {platform: {os: 'unknown', architecture: 'unknown'}}]}),
        short: L.shortDigest('sha256:0123456789abcdef0123'),
      }), (e) => done({error: String(e)}));''')
    check('lib.js formatSize', results.get('size') == ['0 B', '1.5 KiB', '10 MiB', '?'], results)
    check('lib.js platformName', results.get('plat') == ['linux/arm64/v8', ''], results)
    check('lib.js pullCommands by digest', results.get('pull') == 'podman pull h:1/a/b@sha256:ab', results)
    check('lib.js parseHash', results.get('hash') == [
        {'view': 'image', 'name': 'a/b c', 'ref': 'v1'}, {'view': 'list', 'q': 'x&y'}, {'view': 'list', 'q': ''}], results)
    check('lib.js platforms skips unknown/unknown', results.get('plats') == ['linux/amd64'], results)
    check('lib.js shortDigest', results.get('short') == 'sha256:0123456789ab…', results)

    # Logging out.
    d.find_element(By.ID, 'logout').click()
    wait(d, '#login')
    check('logout shows the login form and drops the cookie', d.get_cookie('berth_ui') is None)
    r = fetch(d, '/ui/api/session')
    check('after logout the UI API refuses', r['status'] == 401, r)
finally:
    d.quit()

# 400 px wide: readable, nothing wider than the screen.
d = new_driver(600, 800)
try:
    # Headless windows are at least 500 px wide: emulate a 400 px screen.
    d.execute_cdp_cmd('Emulation.setDeviceMetricsOverride',
                      {'width': 400, 'height': 800, 'deviceScaleFactor': 1, 'mobile': True})
    login(d, 'alice', 'alicepass')
    loaded(d)
    shot(d, 'repositories-400px.png')
    w = d.execute_script('return [window.innerWidth, document.documentElement.scrollWidth]')
    check('the list fits 400 px', w[0] == 400 and w[1] <= 400, w)
    d.get(BASE + '/ui/#/r/alice/app/m/v1')
    loaded(d, 'image')
    w = d.execute_script('return [window.innerWidth, document.documentElement.scrollWidth]')
    shot(d, 'image-400px.png')
    check('the image page fits 400 px', w[0] == 400 and w[1] <= 400, w)
finally:
    d.quit()

# Time to the first render of the list, with 1,000 more repositories.
d = new_driver()
try:
    for user in ('admin', 'alice'):
        d.delete_all_cookies()
        login(d, user, user + 'pass')
        loaded(d)
        t0 = time.monotonic()
        d.get(BASE + '/ui/')
        loaded(d)
        ms = (time.monotonic() - t0) * 1000
        n = len(d.find_elements(By.CSS_SELECTOR, '#repos li'))
        nav = d.execute_script('return performance.now()')
        print(f'# first render of the repository list as {user}: {ms:.0f} ms from navigation '
              f'({n} names shown, page clock {nav:.0f} ms)')
        check(f'the list renders for {user} within 5 s with 1,000 repositories', ms < 5000 and n > 0, ms)
        if user == 'admin':
            shot(d, 'repositories-admin.png')
            check('admin sees 100 names and a More button',
                  n == 100 and d.find_element(By.ID, 'more').is_displayed(), n)
finally:
    d.quit()

print(f'# browser checks failed: {failed}')
sys.exit(1 if failed else 0)
