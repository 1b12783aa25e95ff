"""SMS benchmark: PDU parts encoded and decoded per CPU second (drivers/sms_pdu.py), against what a GSM
modem sends: a part takes the network seconds, so the codec's share of a text's time is printed."""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from drivers import sms_pdu

# A modem's +CMGS answer takes about 2-5 s a part on a live network (the modems' AT manuals warn of
# "several seconds"); 3 s is the figure the share is printed against.
MODEM_S_PER_PART = 3.0
TEXTS = {"GSM 7-bit, 160 characters": "Your repair is booked for 09:00 tomorrow. Reply 1-5 to rate us. " * 2 + "x" * 30,
         "UCS-2, 3 parts (Chinese)": "您好，感谢您致电本中心。请为本次服务打分：1 很不满意，5 非常满意。" * 5}


def rate(fn: Callable[[], int], seconds: float) -> float:
    """Parts per CPU second of `fn` (which returns the parts it handled), run for about `seconds`."""
    parts, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        parts += fn()
    return parts / (time.process_time() - start)


def run(out: Callable[[str], None] = print, seconds: float = 1.0) -> None:
    out("SMS PDUs (drivers/sms_pdu.py): parts per CPU second, and the codec's share of a modem's 3 s a part")
    stamp = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    for name, text in TEXTS.items():
        submits = sms_pdu.encode_submit("+8613800138000", text, 7)
        delivers = sms_pdu.encode_deliver("+8613800138000", text, stamp, 7)
        encode = rate(lambda: len(sms_pdu.encode_submit("+8613800138000", text, 7)), seconds)
        decode = rate(lambda: len([sms_pdu.decode(p) for p in delivers]), seconds)
        share = 100.0 * (1 / encode) / MODEM_S_PER_PART
        out(f"  {name:<28} {len(submits)} part(s): encode {encode:>9,.0f}/s  decode {decode:>9,.0f}/s  "
            f"share {share:.4f} %")


if __name__ == "__main__":
    run()
