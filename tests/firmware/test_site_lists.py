"""site.toml's wrap-up codes and not-ready reasons: `[box] wrapup_codes`, `not_ready_reasons`, a queue's own
`wrapup_codes`; checked by the engine's reader, the stock lists where the file names none."""
from __future__ import annotations

import pytest

from firmware.callcenter import settings
from firmware.config.site import DEFAULTS_DIR, read_site
from firmware.config.site_keys import STOCK_NOT_READY_REASONS, STOCK_WRAPUP_CODES
from typed_toml import ConfigError

STOCK = (DEFAULTS_DIR / "site.toml").read_text()


def site_with(tmp_path, box: str = "", sales: str = ""):
    path = tmp_path / "site.toml"
    text = STOCK.replace('hangup_silence_s = 0 ', box + 'hangup_silence_s = 0 ', 1)
    text = text.replace('name = "sales"\n', 'name = "sales"\n' + sales, 1)
    path.write_text(text)
    return read_site(path)


def test_the_stock_lists_where_the_file_names_none_and_the_engines_defaults_are_the_same(tmp_path):
    site = read_site(DEFAULTS_DIR / "site.toml")
    assert site.wrapup_codes == tuple(STOCK_WRAPUP_CODES) == settings.STOCK_WRAPUP_CODES
    assert site.not_ready_reasons == STOCK_NOT_READY_REASONS == settings.STOCK_NOT_READY_REASONS


def test_a_site_and_a_queue_name_their_own_codes(tmp_path):
    site = site_with(tmp_path, 'wrapup_codes = ["done", "warranty_claim"]\nnot_ready_reasons = ["午休", "Break"]\n',
                     'wrapup_codes = ["sold", "quote-sent"]\n')
    assert site.wrapup_codes == ("done", "warranty_claim") and site.not_ready_reasons == ("午休", "Break")
    assert site.codes_of("sales") == ("sold", "quote-sent")       # the queue's own
    assert site.codes_of("service") == site.codes_of(None) == ("done", "warranty_claim")


@pytest.mark.parametrize("box, sales, key", [
    ('wrapup_codes = ["bad code"]\n', "", "wrapup_codes"),
    ('wrapup_codes = ["销售"]\n', "", "wrapup_codes"),                    # a code word is ASCII
    ('wrapup_codes = ["' + "x" * 41 + '"]\n', "", "wrapup_codes"),
    ('wrapup_codes = ["a", "a"]\n', "", "wrapup_codes"),
    ('wrapup_codes = [' + ", ".join(f'"c{n}"' for n in range(31)) + ']\n', "", "wrapup_codes"),
    ('not_ready_reasons = ["' + "x" * 41 + '"]\n', "", "not_ready_reasons"),
    ('not_ready_reasons = ["Break", "Break"]\n', "", "not_ready_reasons"),
    ("", 'wrapup_codes = ["no good"]\n', "wrapup_codes"),
])
def test_a_bad_list_is_refused_naming_its_key(tmp_path, box, sales, key):
    with pytest.raises(ConfigError) as refused:
        site_with(tmp_path, box, sales)
    assert key in str(refused.value)
