"""Chinese and English (issue 12 item 7): the zh catalogue covers every marked message, the language
follows the user, the sign-in page's switch and the browser, and dates and numbers follow the locale.

After adding or changing a message: `make messages`, translate the new entries of
webui/locale/zh/LC_MESSAGES/branchline.po, and run this file."""
from __future__ import annotations

import io
import json
import re
import sqlite3
import subprocess
import sys
from gettext import GNUTranslations
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from webui import locale_build

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?([#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%])")


def source_messages() -> dict:
    """(context, msgid or (singular, plural)) -> where it is, extracted now from the code as `make messages`
    does."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords):
        found.setdefault((context, message), f"{filename}:{lineno}")
    return found


def placeholders(text: str) -> set[str]:
    return {f"%({name}){kind}" for name, kind in PLACEHOLDER.findall(text) if kind != "%"}


@pytest.fixture(scope="module")
def zh_catalog():
    with locale_build.po_path("zh").open("rb") as fh:
        return read_po(fh, locale="zh")


def test_every_marked_message_is_translated_into_chinese(zh_catalog):
    missing, untranslated = [], []
    for (context, message), where in source_messages().items():
        key = message[0] if isinstance(message, tuple) else message
        entry = zh_catalog.get(key, context=context)
        if entry is None or (isinstance(message, tuple) and entry.id != message):
            missing.append(f"{where}: {message!r}")
        elif "fuzzy" in entry.flags or not all(entry.string if entry.pluralizable else [entry.string]):
            untranslated.append(f"{where}: {message!r}")
    assert not missing, "not in the zh catalogue (run `make messages`):\n" + "\n".join(missing)
    assert not untranslated, "empty or fuzzy in the zh catalogue:\n" + "\n".join(untranslated)


def test_messages_use_named_placeholders_that_each_translation_keeps(zh_catalog):
    problems = []
    for entry in zh_catalog:
        if not entry.id:
            continue
        ids = entry.id if entry.pluralizable else (entry.id,)
        forms = entry.string if entry.pluralizable else (entry.string,)
        for text in ids:
            if any(not name for name, kind in PLACEHOLDER.findall(text) if kind != "%"):
                problems.append(f"{text!r}: a placeholder without a name cannot be reordered by a translation")
        # Chinese has one form; it must carry every value the plural message names.
        wanted = placeholders(ids[-1])
        for form in forms:
            if placeholders(form) != wanted:
                problems.append(f"{ids[0]!r}: {sorted(placeholders(form))} in {form!r}, {sorted(wanted)} in the msgid")
    assert not problems, "\n".join(problems)


def test_the_catalogue_compiles_without_errors(zh_catalog):
    assert zh_catalog.plural_forms == "nplurals=1; plural=0;"
    errors = [(entry.id, [str(e) for e in errs]) for entry, errs in zh_catalog.check()]
    assert errors == []
    compiled = GNUTranslations(io.BytesIO(locale_build.compiled(zh_catalog)))
    assert compiled.gettext("Not ready") == "示忙" and compiled.gettext("Wrap-up") == "话后处理"
    assert compiled.pgettext("count", "Calls") == "通话数" and compiled.gettext("Calls") == "通话记录"


def test_what_the_web_process_reads_is_made_from_the_catalogues_as_they_are():
    stale = [str(path.relative_to(ROOT)) for path, content in locale_build.outputs().items()
             if not path.exists() or path.read_bytes() != content]
    assert not stale, "run `make messages` and commit: " + ", ".join(stale)


def test_the_box_runs_its_languages_without_babel():
    # Babel's CLDR data would cost the web process about 6 MB of its 40 MB (`make bench`).
    code = ("import sys, webui.app, webui.server, webui.fmt; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'babel'))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


MOMENTS = [(2025, 3, 31, 14, 5, 9), (1999, 12, 1, 0, 0, 0), (2026, 1, 9, 23, 59, 59), (2031, 10, 20, 7, 8, 1)]
NUMBERS = [0, 7, -5, 999, 1000, 1234, -1234.5678, 1234567.5, 0.0004, 0.0005, 0.0015, -0.0001, 2.5, 0.1 + 0.2,
           2.675, 1.0005, 0.0025, -2.0005, 1e-07, 1.5e16, 123456789.9875, 5e-4, 0.9995, -0.0,
           12.3456, 999.9995, 10 ** 9, 3.0, 2 ** 60 + 1]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_dates_and_numbers_are_written_as_babel_writes_them_from_cldr(lang):
    import datetime as dt
    import time

    from babel.dates import format_skeleton
    from babel.numbers import format_decimal
    from bottle import request

    from webui import fmt
    request.bind({"HTTP_ACCEPT_LANGUAGE": lang})
    for fields in MOMENTS:
        moment = dt.datetime(*fields)
        epoch = time.mktime(moment.timetuple())
        date, clock = format_skeleton("yMMMd", moment, locale=lang), format_skeleton("Hms", moment, locale=lang)
        assert fmt.clock(epoch) == clock
        assert fmt.when(epoch) == (f"{date}, {clock}" if lang == "en" else f"{date} {clock}")
    for value in NUMBERS:
        assert fmt.number(value) == format_decimal(value, locale=lang), value


def test_the_extractor_reads_template_messages_where_they_are():
    from webui.template_messages import extract

    template = (b"% rebase('layout')\n<p title=\"{{_('Hint')}}\">It's {{_(\"Text\")}}</p>\n"
                b"% if x:\n  {{ngettext('%(n)d call', '%(n)d calls', n) % {'n': n} }}\n% end\n")
    found = [(line, message) for line, _f, message, _c in extract(io.BytesIO(template), DEFAULT_KEYWORDS, [], {})]
    assert found == [(2, "Hint"), (2, "Text"), (4, ("%(n)d call", "%(n)d calls", None))]


# --- the language of a request ----------------------------------------------------------------------

def set_locale(db_path, username: str, locale: str | None) -> None:
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE users SET locale = ? WHERE username = ?", (locale, username))


def html_lang(page: str) -> str:
    return re.search(r'<html lang="(\w+)">', page).group(1)


@pytest.mark.parametrize("header, lang", [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
    ("zh-TW", "zh"),
    ("en-US,en;q=0.9,zh;q=0.5", "en"),
    ("fr-FR, zh;q=0.3", "zh"),
    ("", "en"),
])
def test_the_sign_in_page_speaks_the_browsers_language(client, sign_in_admin, app, header, lang):
    sign_in_admin(app)
    page = client.get("/login", headers={"Accept-Language": header} if header else None)
    assert page.status == 200 and html_lang(page.text) == lang
    if lang == "zh":
        assert "<h1>登录</h1>" in page.text and "<span>用户名</span>" in page.text and "Sign in" not in page.text
    else:
        assert "<h1>Sign in</h1>" in page.text


def test_the_language_switch_is_remembered_for_an_anonymous_visitor(client, sign_in_admin, app):
    sign_in_admin(app)
    token = client.csrf("/login?next=/calls")
    reply = client.post("/language", form={"csrf_token": token, "language": "zh", "next": "/login?next=%2Fcalls"})
    assert reply.status == 303 and reply.location == "/login?next=%2Fcalls"
    page = client.get(reply.location, headers={"Accept-Language": "en"})
    assert html_lang(page.text) == "zh" and '<input type="hidden" name="next" value="/calls">' in page.text
    reply = client.post("/login", form={"csrf_token": client.csrf(), "username": "admin", "password": "wrong",
                                        "next": "/"})
    assert reply.status == 400 and "用户名或密码错误。" in reply.text

    refused = client.post("/language", form={"csrf_token": client.csrf(), "language": "xx", "next": "/login"})
    assert refused.status == 400 and "English, 中文" in refused.text
    forged = client.post("/language", form={"language": "en", "next": "/login"})
    assert forged.status == 403 and html_lang(client.get("/login").text) == "zh"


def test_the_setup_page_offers_the_switch_before_any_account_exists(client):
    page = client.get("/setup", headers={"Accept-Language": "zh"}).text
    assert html_lang(page) == "zh" and "<h1>初始化本设备</h1>" in page and "至少 10 个字符" in page
    assert 'action="/language"' in page and 'value="en" lang="en"' in page


def test_a_users_own_language_comes_before_the_browsers(admin, db_path, records):
    set_locale(db_path, "admin", "zh")
    page = admin.get("/calls?number=5550001", headers={"Accept-Language": "en-US"}).text
    assert html_lang(page) == "zh"
    # CLDR's Chinese date order and the 24-hour clock; the count sentence and table heads in Chinese.
    assert "2025年3月10日 00:30:00" in page and "Mar 10, 2025" not in page
    assert "第 1–1 条，共 1 条通话" in page and "<th>坐席</th>" in page
    assert '<span class="st st-answered">已接听</span>' in page

    set_locale(db_path, "admin", "en")
    page = admin.get("/calls?number=5550001", headers={"Accept-Language": "zh"}).text
    assert html_lang(page) == "en" and "Mar 10, 2025, 00:30:00" in page and "1–1 of 1 call\n" in page

    set_locale(db_path, "admin", "zh_CN")
    assert html_lang(admin.get("/", headers={"Accept-Language": "en"}).text) == "zh"
    set_locale(db_path, "admin", None)
    assert html_lang(admin.get("/", headers={"Accept-Language": "zh-TW,en;q=0.5"}).text) == "zh"


def test_the_pager_counts_in_chinese(admin, db_path, records):
    set_locale(db_path, "admin", "zh")
    page = admin.get("/calls?per_page=1&page=120").text
    assert "第 120 页，共 120 页" in page and "第 120–120 条，共 120 条通话" in page and "上一页" in page


def test_a_call_page_names_the_timeline_in_chinese(admin, db_path, records):
    set_locale(db_path, "admin", "zh")
    page = admin.get("/calls/call-0001").text
    assert "<h2>时间线</h2>" in page and "进入队列" in page and "接通坐席" in page
    assert "<dt>方向</dt><dd>呼入</dd>" in page and "<dt>挂机方</dt><dd>坐席</dd>" in page


def test_api_errors_follow_the_language(admin, db_path):
    set_locale(db_path, "admin", "zh")
    reply = admin.get("/api/v1/calls?order=sideways")
    assert reply.status == 400 and "排序须为 asc（最早在前）或 desc（最新在前）。" in reply.json()["error"]
    reply = admin.api_post("/api/v1/agents/1003/not_ready", {})
    assert reply.status == 400 and reply.json() == {"error": "请选择示忙原因"}
    anonymous = admin.__class__(admin.app, "192.0.2.99")
    reply = anonymous.get("/api/v1/status", headers={"Accept-Language": "zh-CN"})
    assert reply.status == 401 and reply.json() == {"error": "需要登录"}


def test_the_dashboard_hands_its_scripts_their_language(admin, db_path):
    set_locale(db_path, "admin", "zh")
    page = admin.get("/").text
    scripts = re.findall(r'<script src="([^"]+)" defer>', page)
    assert scripts[:2] == ["/static/i18n/zh.js", "/static/i18n.js"] and scripts[-1] == "/static/dashboard.js"
    # Reasons go to the engine in English and are shown in Chinese.
    assert '<option value="Lunch">午餐</option>' in page and "&quot;Lunch&quot;: &quot;午餐&quot;" in page


def test_the_script_catalogue_holds_what_the_scripts_say(client):
    reply = client.get("/static/i18n/zh.js")
    assert reply.status == 200 and "javascript" in reply.header("Content-Type")
    catalogue = json.loads(reply.text.split("window.BranchlineCatalogue = ", 1)[1].rstrip().rstrip(";"))
    assert catalogue["lang"] == "zh" and catalogue["plurals"] == 1
    assert catalogue["messages"]["Ringing agent"] == "坐席振铃"
    assert catalogue["messages"]["%(n)s line in alarm"] == ["%(n)s 条线路告警"]
    # Only the scripts' messages: the pages' own text stays on the server.
    assert "Set up this box" not in catalogue["messages"]
    english = client.get("/static/i18n/en.js").text
    assert '"messages": {}' in english and '"plurals": 2' in english


@pytest.mark.browser
def test_the_dashboard_scripts_speak_chinese_after_the_switch(browser, live_server, app, sign_in_admin, password):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    sign_in_admin(app)
    wait = WebDriverWait(browser, 10)
    browser.get(live_server + "/login")
    browser.find_element(By.CSS_SELECTOR, ".language-switch button[value=zh]").click()
    wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "登录"))
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()

    # Drawn by dashboard.js from the live status, in the words of the zh catalogue.
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#waiting tbody"), "排队中"))
    assert browser.find_element(By.CSS_SELECTOR, "#t-waiting .tile-sub").text == "另有 1 通在 IVR 中"
    agents = browser.find_element(By.ID, "agents").text
    assert "示闲" in agents and "已签出" in agents and "通话数" in agents
    assert browser.find_element(By.CSS_SELECTOR, "#agents tr[data-key='1003'] .st").text.split() == ["示忙", "午餐"]
    assert "签入" in browser.find_element(By.CSS_SELECTOR, "#agents tr[data-key='1004'] .actions").text
    assert browser.find_element(By.ID, "n-agents").text == "4 人中 3 人已签入"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh"
    assert browser.get_log("browser") == []


def test_an_address_no_route_serves_answers_in_the_users_own_language(admin, db_path):
    set_locale(db_path, "admin", "zh")
    page = admin.get("/nowhere", headers={"Accept-Language": "en-US"})
    assert page.status == 404 and html_lang(page.text) == "zh"
    assert "/nowhere" in page.text and "There is no page at" not in page.text
    api = admin.get("/api/v1/nowhere", headers={"Accept-Language": "en-US"})
    assert api.status == 404 and "no such API endpoint" not in api.json()["error"]
