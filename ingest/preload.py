"""Imported once by the parse forkserver (ingest/sandbox.py): every parser process forked from
it starts with the offline environment, the packaged spaCy model's loader and the light parsers
loaded.

unstructured imports spaCy, and spaCy's thinc imports torch whenever it is installed: about
1.2 s of CPU that parsing never uses (PDFs included: their fast strategy needs no torch), so the
parsers are imported with torch hidden. PDF and XLSX parsers, about 1 s more, are loaded by a
worker only in runs that have such files (`sandbox.KIND_MODULES`).
"""

from advisor.core.runtime import imports_hidden
from ingest.worker import init_worker

init_worker()
with imports_hidden("torch"):
    import unstructured.partition.csv
    import unstructured.partition.docx
    import unstructured.partition.html
    import unstructured.partition.md
    import unstructured.partition.pptx
    import unstructured.partition.text  # noqa: F401
