"""The web app's files and how the gateway serves them: no browser, no
server (tests/browser/ drives the app itself in Chromium)."""
import base64
import hashlib
import json
import re
import shutil
import struct
from pathlib import Path

import falcon
import falcon.testing
import pytest

from services.gateway.resources import web

ROOT = Path(__file__).resolve().parents[3]
WEB = web.WEB
STATIC = WEB / "static"
VENDOR = STATIC / "vendor"


@pytest.fixture(scope="module")
def client():
    app = falcon.App()
    web.add_routes(app, None)
    return falcon.testing.TestClient(app)


# --- serving ----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/signin", "/leads/0b6f6f0e-2c1a-4b8e-9d55-1f0e3c9a7b21",
                                  "/session-expired", "/some/unknown-screen"])
def test_every_app_path_gets_the_page(client, path):
    result = client.simulate_get(path)
    assert result.status_code == 200
    assert result.headers["content-type"].startswith("text/html")
    assert '<div id="app">' in result.text
    assert result.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/v1/nothing", "/v1", "/static/nothing.js", "/favicon.ico",
                                  "/static/../resources/web.py", "/static/%2e%2e/index.html"])
def test_api_and_file_paths_never_get_the_page(client, path):
    result = client.simulate_get(path)
    assert result.status_code == 404
    assert '<div id="app">' not in result.text


def test_only_get_is_served(client):
    assert client.simulate_post("/").status_code == 405
    assert client.simulate_post("/leads/1").status_code == 405


def test_the_page_allows_only_our_own_origin_and_its_import_map():
    html = (WEB / "index.html").read_text()
    import_map = re.search(r'<script type="importmap">(.*?)</script>', html, re.S).group(1)
    policy = web.content_security_policy(html)
    digest = base64.b64encode(hashlib.sha256(import_map.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy
    assert "default-src 'self'" in policy and "http" not in policy


def test_static_files_are_revalidated(client):
    first = client.simulate_get("/static/main.js")
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/javascript")
    assert first.headers["cache-control"] == "no-cache"
    again = client.simulate_get("/static/main.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_the_manifest_makes_the_app_installable(client):
    result = client.simulate_get("/manifest.webmanifest")
    assert result.headers["content-type"] == "application/manifest+json"
    manifest = result.json
    for field in ("id", "name", "short_name", "start_url", "scope", "lang", "theme_color"):
        assert manifest[field]
    assert manifest["display"] == "standalone"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        png = (WEB / icon["src"].lstrip("/")).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert f"{width}x{height}" == icon["sizes"]


def test_the_service_worker_precaches_the_shell_of_this_version(client):
    result = client.simulate_get("/sw.js")
    assert result.headers["content-type"].startswith("text/javascript")
    assert result.headers["cache-control"] == "no-cache"
    version = re.match(r'const VERSION = "([0-9a-f]{16})";\nconst SHELL = (\[.*\]);\n', result.text)
    assert version, result.text[:200]
    shell = json.loads(version.group(2))
    assert shell[0] == "/"
    for url in shell[1:]:
        assert (WEB / url.lstrip("/")).is_file(), url
    assert {"/static/main.js", "/static/api.js", "/static/pages/Leads.js", "/static/i18n/en.js",
            "/static/vendor/vue.esm-browser.prod.js", "/static/icons/icon-192.png"} <= set(shell)
    assert "/static/vendor/redoc.standalone.js" not in shell  # 1 MB for the API docs alone
    assert "/static/vendor/echarts.esm.min.js" not in shell  # 1 MB for the managers' charts, live only
    assert "/v1/" in result.text  # and it keeps its hands off the API


def test_the_version_changes_with_any_file(tmp_path):
    copy = tmp_path / "web"
    shutil.copytree(WEB, copy)
    before = web.version(copy)
    page = copy / "static" / "pages" / "Leads.js"
    page.write_text(page.read_text() + "\n")
    assert web.version(copy) != before


def test_docs_show_the_openapi_document_with_vendored_redoc(client):
    result = client.simulate_get("/docs")
    assert result.status_code == 200
    assert 'spec-url="/v1/openapi.json"' in result.text
    assert 'src="/static/vendor/redoc.standalone.js"' in result.text


# --- vendored libraries -----------------------------------------------------------

def vendored() -> list[list[str]]:
    lines = (VENDOR / "VERSIONS").read_text().splitlines()
    return [line.split() for line in lines if line and not line.startswith("#")]


def test_vendored_files_are_what_versions_records():
    entries = vendored()
    assert {name for name, *_ in entries} == {"vue", "vue-router", "vue-i18n", "redoc", "echarts"}
    script = (ROOT / "scripts" / "vendor.sh").read_text()
    for name, version, file, sha256 in entries:
        assert f'"{name} {version} ' in script
        assert hashlib.sha256((VENDOR / file).read_bytes()).hexdigest() == sha256, file


def test_the_import_map_points_at_vendored_files():
    html = (WEB / "index.html").read_text()
    imports = json.loads(re.search(r'<script type="importmap">(.*?)</script>', html, re.S).group(1))
    assert set(imports["imports"]) == {"vue", "vue-router", "vue-i18n", "echarts"}
    for url in imports["imports"].values():
        assert (WEB / url.lstrip("/")).is_file(), url
    assert "http" not in re.sub(r"https?://www\.w3\.org", "", html)  # no CDN


def test_every_relative_import_resolves():
    for module in STATIC.rglob("*.js"):
        if VENDOR in module.parents:
            continue
        for target in re.findall(r'from "(\.[^"]+)"', module.read_text()):
            assert (module.parent / target).resolve().is_file(), f"{module.name}: {target}"


# --- translations -----------------------------------------------------------------

def messages(language: str) -> dict:
    text = (STATIC / "i18n" / f"{language}.js").read_text()
    return json.loads(text.split("export default", 1)[1].strip().rstrip(";"))


def flat(tree: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in tree.items():
        out.update(flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key: value})
    return out


ZH, EN = flat(messages("zh-CN")), flat(messages("en"))


def test_both_languages_have_the_same_keys():
    assert set(ZH) - set(EN) == set(), "missing in en.js"
    assert set(EN) - set(ZH) == set(), "missing in zh-CN.js"


@pytest.mark.parametrize("key", sorted(ZH))
def test_messages_are_complete_and_take_the_same_placeholders(key):
    for text in (ZH[key], EN[key]):
        assert text.strip(), key
        assert "|" not in text and "@" not in text, key  # vue-i18n syntax: plurals, links
    assert re.findall(r"\{(\w+)\}", ZH[key]) == re.findall(r"\{(\w+)\}", EN[key])


def test_every_key_the_app_uses_exists():
    used = set()
    for module in STATIC.rglob("*.js"):
        if VENDOR in module.parents or "i18n" in module.parts:
            continue
        source = module.read_text()
        used |= set(re.findall(r"""\$?\bt\(\s*['"]([\w.]+)['"]\s*[,)]""", source))
        for values in re.findall(r"const STATUSES = \[([^\]]*)\]", source):
            used |= {f"status.{value}" for value in re.findall(r'"(\w+)"', values)}
    assert len(used) > 40
    assert used - set(ZH) == set()


# --- design tokens ----------------------------------------------------------------

def luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


TOKENS = dict(re.findall(r"--(color-[\w-]+):\s*(#[0-9a-fA-F]{6})", (STATIC / "tokens.css").read_text()))


@pytest.mark.parametrize("text, background, least", [
    ("color-text", "color-surface", 4.5), ("color-text", "color-bg", 4.5),
    ("color-muted", "color-surface", 4.5), ("color-muted", "color-bg", 4.5),
    ("color-primary", "color-surface", 4.5), ("color-on-primary", "color-primary", 4.5),
    ("color-ok", "color-surface", 4.5), ("color-warn", "color-surface", 4.5),
    ("color-late", "color-surface", 4.5), ("color-late", "color-late-bg", 4.5),
    ("color-text", "color-new", 4.5), ("color-on-banner", "color-banner", 4.5),
    ("color-late", "color-bg", 4.5),
    ("color-border", "color-surface", 3.0), ("color-focus", "color-surface", 3.0),
])
def test_colours_pass_contrast(text, background, least):
    assert contrast(TOKENS[text], TOKENS[background]) >= least
