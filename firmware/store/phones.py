"""Phone numbers of customer cards: written as E.164 (ITU-T E.164), read from any local or international form."""
from __future__ import annotations

import functools
import importlib
from types import ModuleType

# ITU-T E.164 §6: at most 15 digits after the "+"; a typed number with its spaces, dashes and
# brackets is longer, and 32 characters leave room for them without letting a page carry an essay.
MAX_TYPED = 32


@functools.cache
def _lib() -> ModuleType:
    """phonenumbers, loaded with the first number read: its metadata is about 1 MB of the web process's
    40 MB, and most of its pages read no number (docs/architecture.md "Memory")."""
    return importlib.import_module("phonenumbers")


class PhoneNumberError(ValueError):
    """A typed number that is no telephone number of the given region or of any country."""


def normalize(text: str, region: str) -> str:
    """`text` (`021-6123 4567`, `+86 21 61234567`, `02161234567`) as E.164 (`+862161234567`).

    Numbers without a country code are read as dialled in `region` (ISO 3166 alpha-2, the site's
    `[box] region`). A number must be *possible* (the length plan of its country), not *valid*:
    validity needs the newest number-range tables, and a card for a customer on a range opened
    after this box was installed must still be accepted."""
    phonenumbers = _lib()
    text = text.strip()
    if not text or len(text) > MAX_TYPED:
        raise PhoneNumberError(f"{text[:MAX_TYPED]!r} is not a phone number: 1-{MAX_TYPED} characters")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise PhoneNumberError(f"{text!r} is not a phone number") from None
    if not phonenumbers.is_possible_number(parsed):
        raise PhoneNumberError(f"{text!r} has the wrong number of digits for a number of "
                               f"{phonenumbers.region_code_for_number(parsed) or region}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def caller_key(number: str, region: str) -> str:
    """The key a caller ID and a card's number meet under: E.164 when it reads as a number of
    `region`, else its digits as delivered (an extension, a short code, a record written before
    cards held E.164), so both sides of a match always go through the same function."""
    if number[:1] == "+" and number[1:].isdigit():
        return number  # already E.164, as cards store it: no parse (the engine keys every card's numbers)
    try:
        return normalize(number, region)
    except PhoneNumberError:
        return "".join(ch for ch in number if ch.isdigit() or ch in "*#+")



def is_region(code: str) -> bool:
    """Whether `code` is a region phonenumbers knows (ISO 3166 alpha-2, upper case)."""
    phonenumbers = _lib()
    return code in phonenumbers.SUPPORTED_REGIONS


def display(number: str) -> str:
    """An E.164 number in the international format people read (`+86 21 6123 4567`)."""
    phonenumbers = _lib()
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def dialled_form(number: str, region: str) -> str:
    """The digits a trunk of `region` dials to reach `number`: an E.164 number of the region in its
    national form with the trunk prefix (`+862161234567` -> `02161234567`, a mobile `13800138000`),
    one abroad with the region's international prefix (`+16502530000` from China -> `0016502530000`);
    a number written without `+` as it is, digits, `*` and `#` only. PhoneNumberError otherwise."""
    if number[:1] != "+":
        if not number or any(ch not in "0123456789*#" for ch in number):
            raise PhoneNumberError(f"{number[:MAX_TYPED]!r} cannot be dialled: digits, * and # only")
        return number
    phonenumbers = _lib()
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        raise PhoneNumberError(f"{number[:MAX_TYPED]!r} is not a phone number") from None
    if not phonenumbers.is_possible_number(parsed):
        raise PhoneNumberError(f"{number[:MAX_TYPED]!r} has the wrong number of digits")
    # format_out_of_country_calling_number gives the national form for a number of `region` itself.
    text = phonenumbers.format_out_of_country_calling_number(parsed, region)
    return "".join(ch for ch in text if ch.isdigit())
