"""Messages in English and Chinese: Msg(en, zh) is built once and rendered in the run's language when printed."""
import os
from dataclasses import dataclass

_lang = os.environ.get("HW8_LANG", "en")


def set_lang(lang):
    global _lang
    if lang not in ("en", "zh"):
        raise ValueError(f"language must be 'en' or 'zh', not {lang!r}")
    _lang = lang


def get_lang():
    return _lang


@dataclass
class Msg:
    en: str
    zh: str

    def __str__(self):
        return self.zh if _lang == "zh" else self.en

    def __add__(self, other):
        other = other if isinstance(other, Msg) else Msg(str(other), str(other))
        return Msg(self.en + other.en, self.zh + other.zh)

