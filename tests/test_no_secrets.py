"""No secret in the repository: every tracked text file is scanned for private keys, tokens that look
issued, and passwords written into code or configuration (docs/security.md §7)."""
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# RFC 7468 PEM blocks of private keys, with key material after the label (the label alone, as code that
# recognises one names it, is not a key).
PEM_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----\s*[A-Za-z0-9+/=]{40,}")
# Credentials well-known services issue (their documented prefixes), and a bearer token written out.
ISSUED = re.compile(r"\b(?:AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36}|xox[abpr]-[A-Za-z0-9-]{10,}|"
                    r"sk_live_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_-]{35})\b|Bearer [A-Za-z0-9_-]{32,}")
# A password or secret given a literal value in code or configuration: `password = "..."`,
# `"secret": "..."`, `password=...` in a URL's user info.
ASSIGNED = re.compile(r"""(?ix)\b(?:password|passwd|secret|api_key|private_key)(?!\w*_(?:file|path))\w*["']?
                          \s*[:=]\s*["']([^"'\s{}%$<>]{8,})["']""")
URL_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:([^@\s/]{4,})@")
# Binary files, and what tests generate (they never hold a secret but may look random).
SKIP_SUFFIXES = {".wav", ".png", ".ico", ".mo", ".woff", ".woff2"}
# Literal values that are not secrets: what a test sends to show it refused or masked (weak passwords the
# policy turns down, a database password the error message must hide), and placeholders.
NOT_SECRETS = {"not-a-secret", "qwertyuiop", "Password123", "chen.jing12345", "sekrit-pw"}


def tracked_texts():
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in names.decode().split("\0"):
        path = ROOT / name
        if not name or path.suffix in SKIP_SUFFIXES or not path.is_file():
            continue
        try:
            yield name, path.read_text()
        except UnicodeDecodeError:
            continue


def test_no_private_key_token_or_password_is_tracked():
    found = []
    for name, text in tracked_texts():
        for pattern in (PEM_KEY, ISSUED):
            found += [f"{name}: {m.group(0)[:40]}..." for m in pattern.finditer(text)]
        for pattern in (ASSIGNED, URL_PASSWORD):
            found += [f"{name}: {m.group(0)[:60]}" for m in pattern.finditer(text)
                      if not any(word in m.group(1) for word in NOT_SECRETS)]
    assert not found, "secrets in tracked files:\n" + "\n".join(found)


def test_the_scan_finds_what_it_looks_for():
    key = "-----BEGIN PRIVATE KEY-----\n" + "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg" + "\n"
    assert PEM_KEY.search(key) and not PEM_KEY.search('KEY_BEGINS = ("-----BEGIN PRIVATE KEY-----", ')
    # The samples are put together here so that this file does not hold them whole (it is scanned too).
    assert ASSIGNED.search('password = "' + 'Winter2024!x"') and ASSIGNED.search('"api_key": "' + 'abcd1234efgh"')
    assert not ASSIGNED.search("password = request.forms.getunicode('password')")
    assert not ASSIGNED.search('"password_file": "/etc/branchline/smtp-password"')
    assert URL_PASSWORD.search("postgresql://hq:" + "hunter22@db/hq") and not URL_PASSWORD.search("postgresql://hq@db/hq")
    assert ISSUED.search("token ghp_" + "a" * 36)
