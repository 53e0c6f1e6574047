"""English is complete: every catalog fully translated and compiled, every source string in a catalog,
pages render in English on request, and Chinese stays the default.

The catalogs are read with a small .po reader (no extra dependency) and the committed .mo files are
checked against them, because a fresh machine may have no gettext to recompile them.
"""

from __future__ import annotations

import ast
import gettext as gnu_gettext
import io
import re
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.utils import translation
from django.utils.translation import trans_real
from django.utils.translation.template import templatize

BASE_DIR = Path(settings.BASE_DIR)
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdrfi]")
HTML_TAG = re.compile(r"</?(?:a|b|br|code|em|i|p|small|span|strong)\b[^>]*>")
GETTEXT_NAMES = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "pgettext",
    "pgettext_lazy",
    "ngettext",
    "ngettext_lazy",
    "npgettext",
    "npgettext_lazy",
}
DOCUMENT_KEY = "mh-2024-new-industrialization"


# --- catalogs -------------------------------------------------------------------------------------


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # 0 for a plain entry, 0..n for plural forms
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        """The key of the compiled catalog: context and msgid joined by EOT."""
        return f"{self.msgctxt}\x04{self.msgid}" if self.msgctxt is not None else self.msgid


def read_po(path: Path) -> list[Entry]:
    """Entries of a .po file as makemessages writes it (obsolete #~ entries are ignored)."""
    entries: list[Entry] = []
    entry, target = Entry(), None

    def finish() -> None:
        nonlocal entry, target
        if target is not None:
            entries.append(entry)
        entry, target = Entry(), None

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            finish()
        elif line.startswith("#,"):
            if target is not None:  # a comment after a msgstr starts the next entry
                finish()
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            if target is not None:
                finish()
        elif line.startswith('"'):
            text = ast.literal_eval(line)
            if isinstance(target, int):
                entry.msgstr[target] += text
            else:
                setattr(entry, target, getattr(entry, target) + text)
        else:
            keyword, literal = line.split(" ", 1)
            if target is not None and (keyword == "msgctxt" or (keyword == "msgid" and target != "msgctxt")):
                finish()  # a new entry without a blank line before it
            text = ast.literal_eval(literal)
            if keyword.startswith("msgstr"):
                target = int(keyword[7:-1]) if "[" in keyword else 0
                entry.msgstr[target] = text
            else:
                target = keyword
                setattr(entry, keyword, text)
    finish()
    return entries


def project_catalogs() -> list[Path]:
    roots = [BASE_DIR / "locale", *BASE_DIR.glob("*/locale")]
    return sorted(
        po for root in roots for po in root.glob("*/LC_MESSAGES/django.po") if ".venv" not in po.parts
    )


CATALOGS = project_catalogs()


def label(path: Path) -> str:
    return str(path.relative_to(BASE_DIR))


def test_catalogs_exist_for_the_root_and_each_app():
    found = {label(path) for path in CATALOGS}
    for where in (
        "locale",
        "policies/locale",
        "enterprises/locale",
        "applications/locale",
        "portal/locale",
        "matching/locale",
    ):
        assert f"{where}/en/LC_MESSAGES/django.po" in found


@pytest.mark.parametrize("po_path", CATALOGS, ids=label)
def test_every_entry_translated_nothing_fuzzy(po_path):
    entries = read_po(po_path)
    header = next(entry for entry in entries if entry.msgid == "" and entry.msgctxt is None)
    assert "fuzzy" not in header.flags, "a fuzzy header makes msgfmt and Django skip the whole catalog"
    messages = [entry for entry in entries if entry is not header]
    assert len(messages) > 20
    fuzzy = [entry.msgid for entry in messages if "fuzzy" in entry.flags]
    assert not fuzzy, f"fuzzy entries in {label(po_path)}: {fuzzy}"
    untranslated = [
        entry.msgid
        for entry in messages
        if not entry.msgstr or any(not text.strip() for text in entry.msgstr.values())
    ]
    assert not untranslated, f"untranslated in {label(po_path)}: {untranslated}"
    for entry in messages:
        forms = range(2) if entry.msgid_plural is not None else range(1)
        assert set(entry.msgstr) == set(forms), entry.msgid


@pytest.mark.parametrize("po_path", CATALOGS, ids=label)
def test_translations_keep_placeholders_and_tags_and_are_english(po_path):
    for entry in read_po(po_path):
        if not entry.msgid:
            continue
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
        for text in entry.msgstr.values():
            expected = sorted(PLACEHOLDER.findall(entry.msgid))
            # An English singular may name the count in words, but never invent or drop a name.
            if entry.msgid_plural is None:
                assert sorted(PLACEHOLDER.findall(text)) == expected, (entry.msgid, text)
            else:
                assert set(PLACEHOLDER.findall(text)) <= set(expected), (entry.msgid, text)
            assert sorted(HTML_TAG.findall(text)) == sorted(HTML_TAG.findall(sources[0])), entry.msgid
            if CJK.search(entry.msgid):
                assert text != entry.msgid, f"copied, not translated: {entry.msgid}"
            # Chinese may stay only as a quoted source term (a search example, a CSV column name).
            for run in CJK.findall(text):
                assert any(run in source for source in sources), (entry.msgid, text)


@pytest.mark.parametrize("po_path", CATALOGS, ids=label)
def test_compiled_catalog_matches_its_po_file(po_path):
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"run compilemessages: {label(mo_path)} is missing"
    with mo_path.open("rb") as handle:
        compiled = gnu_gettext.GNUTranslations(handle)._catalog
    for entry in read_po(po_path):
        if not entry.msgid:
            continue
        if entry.msgid_plural is None:
            assert compiled.get(entry.key) == entry.msgstr[0], (
                f"stale .mo, run compilemessages: {entry.msgid}"
            )
        else:
            for form, text in entry.msgstr.items():
                assert compiled.get((entry.key, form)) == text, f"stale .mo: {entry.msgid}"


def test_a_string_shared_by_catalogs_reads_the_same_everywhere():
    """Django merges all catalogs and the first one wins, so a second wording would be dead text."""
    wordings: dict[str, dict[str, str]] = defaultdict(dict)
    for po_path in CATALOGS:
        for entry in read_po(po_path):
            if entry.msgid:
                wordings[entry.key][label(po_path)] = repr(sorted(entry.msgstr.items()))
    conflicts = {key: where for key, where in wordings.items() if len(set(where.values())) > 1}
    assert not conflicts, conflicts


# --- source strings -------------------------------------------------------------------------------


def apps_with_catalogs() -> list[Path]:
    return sorted(path.parent for path in BASE_DIR.glob("*/locale") if (path.parent / "apps.py").exists())


def python_messages(path: Path) -> set[tuple[str | None, str, bool]]:
    """(context, msgid, plural) of every gettext call with literal arguments in a Python file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in GETTEXT_NAMES:
            continue
        literals = [
            arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
        ]
        has_context = name.startswith(("pgettext", "npgettext"))
        if len(literals) < (2 if has_context else 1):
            continue
        context, msgid = (literals[0], literals[1]) if has_context else (None, literals[0])
        found.add((context, msgid, name.startswith(("ngettext", "npgettext"))))
    return found


def template_messages(path: Path) -> set[tuple[str | None, str, bool]]:
    """The same for a template, read the way makemessages reads it (Django's templatize)."""
    source = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    tokens = [
        tok for tok in tokenize.generate_tokens(io.StringIO(source).readline) if tok.type != tokenize.NL
    ]
    found = set()
    for index, tok in enumerate(tokens[:-1]):
        if tok.type != tokenize.NAME or tok.string not in GETTEXT_NAMES or tokens[index + 1].string != "(":
            continue
        literals, cursor = [], index + 2
        while tokens[cursor].type == tokenize.STRING:
            literals.append(ast.literal_eval(tokens[cursor].string))
            cursor += 2 if tokens[cursor + 1].string == "," else 1
        has_context = tok.string.startswith(("pgettext", "npgettext"))
        if len(literals) < (2 if has_context else 1):
            continue
        context, msgid = (literals[0], literals[1]) if has_context else (None, literals[0])
        found.add((context, msgid, tok.string.startswith(("ngettext", "npgettext"))))
    return found


def source_messages() -> dict[tuple[str | None, str, bool], str]:
    messages: dict[tuple[str | None, str, bool], str] = {}
    for app in apps_with_catalogs():
        for path in app.rglob("*.py"):
            if {"tests", "migrations", "locale"} & set(path.relative_to(app).parts):
                continue
            messages.update(dict.fromkeys(python_messages(path), label(path)))
    template_dirs = [BASE_DIR / "templates"] + [app / "templates" for app in apps_with_catalogs()]
    for directory in template_dirs:
        for path in directory.rglob("*.html"):
            messages.update(dict.fromkeys(template_messages(path), label(path)))
    return messages


def test_every_source_string_has_an_english_translation():
    """A string added to a template or an app with a catalog fails here until makemessages and a
    translation follow; this needs no gettext tools, so it also runs on a fresh machine."""
    messages = source_messages()
    assert len(messages) > 500  # the scan really reads the sources
    assert (None, "政策库", False) in messages and ("home figure", "扶持项目", False) in messages
    catalog = trans_real.translation("en")._catalog
    missing = []
    for (context, msgid, plural), where in sorted(messages.items(), key=lambda item: item[1]):
        key = f"{context}\x04{msgid}" if context is not None else msgid
        text = catalog.get((key, 0) if plural else key)
        if not text or (CJK.search(msgid) and text == msgid):
            missing.append(f"{where}: {msgid}")
    assert not missing, "\n".join(missing)


# --- pages ----------------------------------------------------------------------------------------


class VisibleText(HTMLParser):
    """Text nodes and the readable attributes of a page, stripped; styles and scripts skipped."""

    READABLE = {"placeholder", "aria-label", "title", "alt"}

    def __init__(self) -> None:
        super().__init__()
        self.segments: set[str] = set()
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"style", "script"}:
            self._skipping += 1
        for name, value in attrs:
            if name in self.READABLE and value:
                self.segments.add(value.strip())

    def handle_endtag(self, tag):
        if tag in {"style", "script"}:
            self._skipping -= 1

    def handle_data(self, data):
        text = data.strip(" \n\t：；，。·、“”（）()")
        if text and not self._skipping:
            self.segments.add(text)


def segments_of(response) -> set[str]:
    parser = VisibleText()
    parser.feed(response.content.decode())
    return parser.segments


def text_of(response) -> str:
    html = re.sub(r"<(style|script)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def chinese_msgids() -> set[str]:
    return {entry.msgid for po in CATALOGS for entry in read_po(po) if CJK.search(entry.msgid)}


@pytest.fixture(scope="module")
def policies_loaded(django_db_setup, django_db_blocker):
    """The fact catalog and every policy fixture, loaded once for this module and rolled back after."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_policies", stdout=io.StringIO(), stderr=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# Per page: English that must appear, and Chinese UI labels that must not.
PAGES = {
    "/": (
        [
            "Minhang Industrial Policy Matching Portal",
            "How it works",
            "Policy calculator (no sign-in)",
            "Benefits",
            "Registered enterprises",
            "Sign in",
            "Policy library",
        ],
        ["闵行区产业政策匹配平台", "怎么用", "扶持项目", "登记企业", "政策库", "政策计算器", "登录"],
    ),
    "/policies/": (
        [
            "Policy library",
            "Policy documents",
            "Status",
            "Level",
            "Validity",
            "Clauses / benefits",
            "In force",
            "Municipal",
            "District",
            "Industry track",
            "Kind of support",
            "Search the Chinese clause texts",
        ],
        [
            "政策库",
            "政策文件",
            "状态",
            "层级",
            "有效期",
            "现行有效",
            "市级",
            "区级",
            "产业领域",
            "扶持类型",
            "搜索",
        ],
    ),
    f"/policies/{DOCUMENT_KEY}/": (
        [
            "Issuing authority",
            "Document number",
            "Publication date",
            "Validity",
            "Link to the original",
            "Application period",
            "No call for applications yet",
            "Encoded as",
            "Conditions",
            "Amount",
            "Newly leased self-use factory area ≥ 5000 m²",
            "10 million yuan",  # the cap, in yuan for English readers
        ],
        [
            "发文机关",
            "文号",
            "发布日期",
            "有效期",
            "原文链接",
            "申报时间",
            "编码",
            "条件",
            "金额",
            "同时满足",
        ],
    ),
    "/self-check/": (
        ["Policy calculator", "No registration needed", "The basics", "Business figures", "Start"],
        ["政策计算器", "开始测算", "基本情况", "经营数据", "资质荣誉"],
    ),
    "/accounts/login/": (
        ["Sign in", "Username", "Password"],
        ["登录", "语言"],
    ),
}


@pytest.mark.parametrize("url", list(PAGES))
def test_pages_render_in_english_with_the_language_cookie(policies_loaded, db, english, url):
    response = english.get(url)
    assert response.status_code == 200
    assert '<html lang="en">' in response.content.decode()
    text, segments = text_of(response), segments_of(response)
    wanted, unwanted = PAGES[url]
    readable = text + " " + " ".join(segments)  # placeholders and labels count as text
    assert [phrase for phrase in wanted if phrase not in readable] == []
    assert [label for label in unwanted if label in segments] == []


@pytest.mark.parametrize("url", ["/", "/policies/", "/self-check/", "/accounts/login/"])
def test_no_chinese_interface_label_is_left_on_english_pages(policies_loaded, db, english, url):
    """No text node of the page is a Chinese catalog string: every wrapped label was translated.
    (Pages full of clause text are left out: policy data stays Chinese and may repeat a label.)"""
    native_names = {translation.get_language_info(code)["name_local"] for code, _name in settings.LANGUAGES}
    leaked = segments_of(english.get(url)) & chinese_msgids() - native_names  # the switcher shows 简体中文
    assert leaked == set()


def test_accept_language_alone_selects_english(policies_loaded, db, client):
    page = client.get("/policies/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert '<html lang="en">' in page.content.decode()
    assert "Policy library" in text_of(page) and "政策库" not in segments_of(page)


def test_language_switcher_sets_english_then_back_to_chinese(policies_loaded, db, client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/self-check/"})
    assert response.status_code == 302 and response["Location"] == "/self-check/"
    assert "No registration needed" in text_of(client.get("/self-check/"))
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    home = client.get("/")
    assert "怎么用" in segments_of(home) and "How it works" not in text_of(home)


def test_switcher_names_each_language_in_itself(db, english):
    """English readers still find 简体中文, and Chinese readers find English."""
    html = english.get("/").content.decode()
    assert '<option value="zh-hans" lang="zh-hans">简体中文</option>' in html
    assert '<option value="en" lang="en" selected>English</option>' in html


def test_plural_forms_in_english(policies_loaded, db, english):
    many = text_of(english.get("/policies/", {"q": "专精特新"}))
    count = int(re.search(r"“专精特新”: (\d+) clauses", many).group(1))
    assert count > 1
    one = text_of(english.get("/policies/", {"q": "单项冠军企业的，给予上限100万元"}))
    assert "“单项冠军企业的，给予上限100万元”: 1 clause " in one


def test_chinese_is_the_default_without_any_preference(policies_loaded, db, client):
    for url in ["/", "/policies/", f"/policies/{DOCUMENT_KEY}/", "/self-check/", "/accounts/login/"]:
        response = client.get(url)
        assert response.status_code == 200
        assert '<html lang="zh-hans">' in response.content.decode(), url
    home = client.get("/")
    assert {"政策库", "政策计算器", "怎么用", "扶持项目"} <= segments_of(home)
    assert "How it works" not in text_of(home) and "Policy library" not in text_of(home)
    assert "发文机关" in segments_of(client.get(f"/policies/{DOCUMENT_KEY}/"))


def test_an_unsupported_language_falls_back_to_chinese(db, client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    assert '<html lang="zh-hans">' in response.content.decode()
    assert "怎么用" in segments_of(response)


def test_gettext_in_code_follows_the_active_language():
    # Called through names makemessages does not know, so these test strings stay out of the catalogs.
    say, say_in_context, say_counted = translation.gettext, translation.pgettext, translation.ngettext
    applications = "共 %(counter)s 份申报"
    with translation.override("en"):
        assert say("已保存。") == "Saved."
        assert say_in_context("home figure", "扶持项目") == "Benefits"
        assert say_counted(applications, applications, 1) % {"counter": 1} == "1 application"
        assert say_counted(applications, applications, 3) % {"counter": 3} == "3 applications"
    with translation.override("zh-hans"):
        assert say("已保存。") == "已保存。"


# --- engine wording, matching pages and data labels in English ------------------------------------


SELF_CHECK_ANSWERS = {
    "ic_industry_entity": False,
    "is_manufacturing": True,
    "is_new_key_industry_project": True,
    "new_factory_lease_area_m2": "5000",
    "rent_total": "10000000",
}


def _with_answers(client):
    from portal.selfcheck.questions import ANSWERS_SESSION_KEY

    session = client.session
    session[ANSWERS_SESSION_KEY] = SELF_CHECK_ANSWERS
    session.save()
    return client


def test_self_check_results_show_english_reasons_statuses_and_money(policies_loaded, db, english):
    page = text_of(_with_answers(english).get("/self-check/results/"))
    assert "✓ Newly leased self-use factory area ≥ 5000 m²" in page
    assert (
        "(your answer: 5000 m²; original text: “新租赁自用工业厂房且租赁面积超过5000平方米（含）以上”)"
        in page
    )
    assert "up to 10 million yuan" in page and "about 3 million yuan (proportional)" in page
    for badge in ("Eligible", "Pending recognition", "Needs more information", "Not eligible"):
        assert badge in page
    assert "What information is missing" in page
    # catalog data in English: the missing-fact prompts name facts by label_en
    assert "Newly purchased self-use factory area" in page
    # our own wording is English; only policy data (clause texts, quotes, names) stays Chinese
    assert "5000 平方米" not in page and "您的回答" not in page and not re.search(r"(最高|约|每年) \d", page)


def test_self_check_results_stay_chinese_by_default(policies_loaded, db, client):
    page = text_of(_with_answers(client).get("/self-check/results/"))
    assert "✓ 新租赁自用工业厂房面积 ≥ 5000 平方米" in page and "最高 1000 万元" in page
    assert "Pending recognition" not in page and "m²" not in page


@pytest.fixture
def world(policies_loaded, db):
    from applications.tests.support import build_world

    return build_world()


def test_match_dashboard_in_english_and_apply_reads_as_a_verb(world, english):
    english.force_login(world.user)
    html = english.get("/applications/dashboard/").content.decode()
    row = html.split(f'id="benefit-{world.benefit.pk}"')[1].split("</tr>")[0]
    assert ">Eligible<" in row and ">Apply<" in row
    assert ">Application<" in html  # the column heading stays the noun
    assert "Notifications" in text_of_html(html) and "Background jobs" not in html


def test_match_dashboard_stays_chinese_by_default(world, client):
    client.force_login(world.user)
    html = client.get("/applications/dashboard/").content.decode()
    row = html.split(f'id="benefit-{world.benefit.pk}"')[1].split("</tr>")[0]
    assert ">符合条件<" in row and ">申报<" in row and ">Eligible<" not in row
    assert ">通知<" in html or "通知 <" in html


def text_of_html(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_notification_in_english_with_an_unread_badge_in_the_navigation(world, english):
    from django.test import Client

    from matching.models import MatchChange

    change = MatchChange.objects.create(
        enterprise=world.enterprise,
        benefit=world.benefit,
        old_status="needs_info",
        new_status="eligible",
        new_amount="5000000",
        cause="enterprise_data",
        as_of=timezone_today(),
    )
    english.force_login(world.user)
    home = english.get("/").content.decode()
    assert re.search(
        r'id="nav-notifications">Notifications <span class="badge warn" id="notification-badge">1', home
    )
    page = text_of(english.get("/matches/notifications/"))
    assert f"Newly eligible: {world.benefit.name} (Eligible, estimated 5 million yuan)" in page
    assert "Enterprise data changed" in page
    assert 'id="notification-badge"' in english.get("/").content.decode()  # a GET marks nothing
    assert "Mark all as read" in page
    english.post("/matches/notifications/", {"action": "mark_seen", "up_to": change.pk})
    assert 'id="notification-badge"' not in english.get("/").content.decode()  # seen now

    client = Client()  # no language cookie: the same change in Chinese
    client.force_login(world.user)
    assert f"新符合：{world.benefit.name}（符合条件，预估 500 万元）" in text_of(
        client.get("/matches/notifications/")
    )
    assert change.pk


def timezone_today():
    from django.utils import timezone

    return timezone.localdate()


def test_background_jobs_link_only_for_staff_who_may_see_the_jobs(world, english):
    english.force_login(world.reviewer)  # the reviewer role has matching.view_jobrun
    html = english.get("/").content.decode()
    assert 'id="nav-jobs">Background jobs<' in html and "nav-notifications" not in html
    assert english.get("/matches/jobs/").status_code == 200
    english.force_login(world.staff_without_permission)
    assert "nav-jobs" not in english.get("/").content.decode()


def test_staff_navigation_links_only_to_pages_the_role_may_open(world, client):
    from enterprises.tests.factories import UserFactory
    from portal.roles import ensure_roles

    policy_admin = UserFactory(username="policy-admin", is_staff=True)
    policy_admin.groups.add(ensure_roles()["policy_admin"])
    for user, links, absent in (
        (world.reviewer, ["nav-review", "nav-enterprises", "nav-admin", "nav-jobs"], []),
        (policy_admin, ["nav-enterprises", "nav-admin", "nav-jobs"], ["nav-review"]),
        (world.staff_without_permission, ["nav-admin"], ["nav-review", "nav-enterprises", "nav-jobs"]),
    ):
        client.force_login(user)
        html = client.get("/").content.decode()
        assert all(f'id="{link}"' in html for link in links), user
        assert not any(f'id="{link}"' in html for link in absent), user
    client.force_login(policy_admin)
    assert client.get("/applications/review/").status_code == 403  # hence no link to it
    assert client.get("/enterprises/").status_code == 200


def test_a_stored_explanation_is_chinese_and_reads_in_english(world, english):
    from applications.tests.support import bring_to

    application = bring_to(world, "submitted")
    stored = application.explanation_snapshot
    lease = next(r for r in stored["reasons"] if r["fact"] == "new_factory_lease_area_m2")
    assert (stored["status_label"], lease["requirement"], lease["value_text"]) == (
        "符合条件",
        "新租赁自用工业厂房面积 ≥ 5000 平方米",
        "6000 平方米",
    )
    english.force_login(world.user)
    page = text_of(english.get(f"/applications/{application.pk}/"))
    assert "Newly leased self-use factory area ≥ 5000 m²" in page and "6000 m²" in page
    assert "Eligible" in page and "新租赁自用工业厂房面积" not in page
    english.force_login(world.reviewer)
    review = english.get(f"/applications/review/{application.pk}/")
    assert "Newly leased self-use factory area ≥ 5000 m²" in text_of(review)
    assert not review.context["comparison"].any_change  # compared on the stored words, not the shown ones


def test_fact_labels_follow_the_language_on_the_profile(world, english):
    english.force_login(world.user)
    page = text_of(english.get(f"/enterprises/{world.enterprise.pk}/"))
    assert "Newly leased self-use factory area 6000 m²" in page and "New equipment investment 0 yuan" in page
    assert "新租赁自用工业厂房面积" not in page and "万元" not in page
    from enterprises.views import SOURCE_LABELS  # imported in Chinese by now: labels must still follow

    with translation.override("en"):
        assert str(SOURCE_LABELS["derived"]) == "Calculated by the system"


def test_change_emails_are_chinese_even_when_dispatched_inside_an_english_request(world):
    from matching import notifications
    from matching.models import MatchChange

    world.user.email = "alpha@example.com"
    world.user.save()
    notifications.set_email_preference(user=world.user, enabled=True)
    change = MatchChange.objects.create(
        enterprise=world.enterprise,
        benefit=world.benefit,
        old_status="eligible",
        new_status="not_eligible",
        old_amount="5000000",
        cause="policy",
        as_of=timezone_today(),
    )
    with translation.override("en"):
        assert (
            notifications.describe(change)[1]
            == f"No longer eligible: {world.benefit.name} (now Not eligible)"
        )
        ((subject, body, to),) = notifications._emails([change])
    assert subject == f"【政策匹配】{world.enterprise.name} 的匹配结果有 1 项变化"
    assert body == f"不再符合：{world.benefit.name}（现为不符合条件）" and to == ["alpha@example.com"]
