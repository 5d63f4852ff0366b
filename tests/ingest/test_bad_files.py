"""Bad files: each is refused with a French message naming it and the reason, in bounded time
and memory, and nothing already indexed is lost."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from fpdf import FPDF
from helpers import make_pdf, make_settings
from PIL import Image

from assistant.errors import DocumentError
from ingest.index import ingest, load_state, open_store
from ingest.load import LoadLimits, PdfExtractor, load_document

TEXT = "Le schéma directeur du numérique fixe les priorités de l'intercommunalité pour 2026."
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
HELLO = b"BT /F1 12 Tf 72 720 Td (Bonjour le monde) Tj ET"


def raw_pdf(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A PDF from its objects (object 1 is the catalog), with a correct cross-reference."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\n" % (len(objects) + 1, trailer)
    return bytes(out + b"startxref\n%d\n%%%%EOF\n" % xref)


def stream(data: bytes, compress: bool = False) -> bytes:
    """A content stream object, optionally Flate-compressed."""
    if compress:
        data = zlib.compress(data, 9)
        return b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(data), data)
    return b"<< /Length %d >>\nstream\n%s\nendstream" % (len(data), data)


def pages_pdf(pages: int, declared: int | None = None, content: bytes = HELLO, compress=False):
    """`pages` pages sharing one content stream; the page tree may declare another count."""
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    count = pages if declared is None else declared
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    )
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
            FONT,
            stream(content, compress),
            *[page] * pages,
        ]
    )


def deep_page_tree(depth: int) -> bytes:
    """One page under `depth` nested page-tree nodes."""
    nodes = [b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (n + 1) for n in range(2, depth + 2)]
    leaf = depth + 2
    page = (
        b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
    ) % (leaf - 1, leaf + 1, leaf + 2)
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", *nodes, page, FONT, stream(HELLO)])


def aes_pdf() -> bytes:
    """A PDF encrypted with AES-256 (revision 6): even its owner check needs AES."""
    encrypt = (
        b"<< /Filter /Standard /V 5 /R 6 /Length 256 /P -4 /StmF /StdCF /StrF /StdCF "
        b"/CF << /StdCF << /AuthEvent /DocOpen /CFM /AESV3 /Length 32 >> >> "
        b"/O <%s> /U <%s> /OE <%s> /UE <%s> /Perms <%s> >>"
    ) % (b"00" * 48, b"00" * 48, b"00" * 32, b"00" * 32, b"00" * 16)
    document_id = b"<0123456789abcdef0123456789abcdef>"
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
            FONT,
            stream(HELLO),
            encrypt,
        ],
        trailer=b"/Encrypt 6 0 R /ID [%s %s] " % (document_id, document_id),
    )


def image_only_pdf(path: Path) -> Path:
    """A scanned page: an image and no text layer."""
    buffer = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(buffer, format="PNG")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(buffer, x=10, y=10, w=100)
    pdf.output(str(path))
    return path


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _sparse(path: Path, megabytes: int) -> Path:
    """A file that claims `megabytes` without taking disk space or time to write."""
    with path.open("wb") as handle:
        handle.truncate(megabytes * 1024 * 1024)
    return path


def _truncated(path: Path, source: Path) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])
    return path


SLOW_CONTENT = b"BT /F1 12 Tf " + b"72 720 Td (Bonjour) Tj " * 200_000 + b"ET"

# name -> (how to write it in a folder, what the message must say after "<name> : ")
BAD_FILES: dict[str, tuple[Callable[[Path], object], str]] = {
    "vide.txt": (lambda p: p.write_bytes(b""), r"fichier vide"),
    "vide.pdf": (lambda p: p.write_bytes(b""), r"fichier vide"),
    "tronque.pdf": (
        lambda p: _truncated(p, make_pdf(p.with_name("source.tmp"), [TEXT] * 8)),
        r"PDF illisible : fichier tronqué .*Récupérez-le",
    ),
    "confidentiel.pdf": (
        lambda p: make_pdf(p, [TEXT], user_password="secret"),
        r"PDF protégé par mot de passe",
    ),
    "chiffre-aes.pdf": (
        lambda p: p.write_bytes(aes_pdf()),
        r"PDF protégé par mot de passe",  # with the cryptography package, AES is read
    ),
    "scan.pdf": (image_only_pdf, r"aucun texte extractible \(1 page\(s\) d'images\).*OCR"),
    "rapport-pdf.txt": (
        lambda p: make_pdf(p, [TEXT]),
        r"c'est un PDF enregistré avec l'extension \.txt\. Renommez-le en \.pdf",
    ),
    "photo.md": (lambda p: p.write_bytes(png_bytes()), r"fichier binaire \(une image PNG\)"),
    "document.pdf": (
        lambda p: p.write_bytes(zip_bytes()),
        r"PDF illisible : pas d'en-tête %PDF, ce n'est pas un PDF mais une archive ZIP",
    ),
    "enorme.txt": (
        lambda p: _sparse(p, 60),
        r"fichier trop volumineux \(60 Mo ; la limite est 50 Mo, ASSISTANT_MAX_FILE_MB\)",
    ),
    "ancien.txt": (
        lambda p: p.write_bytes("Données de l'été 2017".encode("latin-1")),
        r"texte non UTF-8 \(octet invalide à la position 4\)",
    ),
    "milliers.pdf": (
        lambda p: p.write_bytes(pages_pdf(5000)),
        r"PDF de 5 000 pages ; la limite est 2000 \(ASSISTANT_MAX_PDF_PAGES\)",
    ),
    "menteur.pdf": (  # declares one page, holds 2,100
        lambda p: p.write_bytes(pages_pdf(2100, declared=1)),
        r"PDF de 2 100 pages ; la limite est 2000",
    ),
    "lent.pdf": (
        lambda p: p.write_bytes(pages_pdf(1, content=SLOW_CONTENT, compress=True)),
        r"lecture du PDF interrompue au bout de \d s .*ASSISTANT_PDF_TIMEOUT_S",
    ),
    "bombe.pdf": (  # 100 MB of blanks in 100 kB
        lambda p: p.write_bytes(pages_pdf(1, content=b" " * 100_000_000, compress=True)),
        r"PDF illisible : il dépasse une limite de sécurité du lecteur PDF",
    ),
    "imbrique.pdf": (
        lambda p: p.write_bytes(
            pages_pdf(1, content=b"BT /F1 12 Tf " + b"[" * 50_000 + b"]" * 50_000 + b" TJ ET")
        ),
        r"PDF illisible : objets imbriqués trop profondément",
    ),
    "arbre.pdf": (
        lambda p: p.write_bytes(deep_page_tree(500)),
        r"PDF illisible : il dépasse une limite de sécurité du lecteur PDF",
    ),
}
LIMITS = LoadLimits(pdf_timeout_s=2.0)


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_file_is_refused_by_name_with_the_reason(tmp_path, name):
    write, reason = BAD_FILES[name]
    path = tmp_path / name
    write(path)

    with pytest.raises(DocumentError) as error:
        load_document(path, limits=LIMITS)

    message = str(error.value)
    assert message.startswith(f"{name} : "), message
    assert re.search(reason, message), message


def test_a_huge_file_is_refused_without_being_read(tmp_path, monkeypatch):
    path = _sparse(tmp_path / "archives.pdf", 5000)  # 5 GB
    opened = []
    real_open = io.open

    def watching_open(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", watching_open)
    monkeypatch.setattr("io.open", watching_open)

    with pytest.raises(DocumentError, match=r"archives\.pdf : fichier trop volumineux \(5000 Mo"):
        load_document(path)

    assert str(path) not in opened


def aes_256_pdf(path: Path, user_password: str | None) -> Path:
    """A text PDF encrypted with AES-256 (fpdf2), opened with `user_password`."""
    from fpdf.enums import EncryptionMethod

    pdf = FPDF()
    pdf.set_encryption(
        owner_password="proprietaire",
        user_password=user_password,
        encryption_method=EncryptionMethod.AES_256,
    )
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, "Schema directeur du numerique 2026.")
    pdf.output(str(path))
    return path


def test_an_aes_256_pdf_opens_with_the_cryptography_package(tmp_path):
    open_one = aes_256_pdf(tmp_path / "aes-sans-mot-de-passe.pdf", user_password=None)
    locked = aes_256_pdf(tmp_path / "aes-verrouille.pdf", user_password="secret")

    assert "Schema directeur du numerique 2026." in load_document(open_one, limits=LIMITS).pages[0]
    with pytest.raises(DocumentError, match=r"aes-verrouille\.pdf : PDF protégé par mot de passe"):
        load_document(locked, limits=LIMITS)


def test_utf16_text_with_its_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "note.txt"
    path.write_bytes("\ufeffÉtude régionale sur la fibre".encode("utf-16-le"))

    assert load_document(path).pages == ["Étude régionale sur la fibre"]


def test_the_pdf_reader_process_cannot_exceed_its_memory(tmp_path):
    bomb = tmp_path / "bombe.pdf"
    bomb.write_bytes(pages_pdf(1, content=b" " * 100_000_000, compress=True))
    good = tmp_path / "bon.pdf"
    good.write_bytes(pages_pdf(2))
    extractor = PdfExtractor(memory_bytes=100 * 1024 * 1024)
    try:
        with pytest.raises(DocumentError, match=r"bombe\.pdf : PDF illisible : .*mémoire"):
            extractor.extract(bomb, 2000, 10)
        assert extractor.extract(good, 2000, 10)[0] == ["Bonjour le monde"] * 2
    finally:
        extractor.close()


def test_a_timed_out_reader_is_replaced_for_the_next_pdf(tmp_path):
    slow = tmp_path / "lent.pdf"
    slow.write_bytes(pages_pdf(1, content=SLOW_CONTENT, compress=True))
    good = tmp_path / "bon.pdf"
    good.write_bytes(pages_pdf(1))
    extractor = PdfExtractor()
    try:
        with pytest.raises(DocumentError, match="interrompue au bout de 0.5 s"):
            extractor.extract(slow, 2000, 0.5)
        assert extractor.extract(good, 2000, 10)[0] == ["Bonjour le monde"]
    finally:
        extractor.close()


def test_bad_files_are_skipped_and_nothing_indexed_is_lost(tmp_path):
    settings = make_settings(
        data_dir=tmp_path / "data",
        corpus_dir=tmp_path / "corpus",
        embedder="hash",
        pdf_timeout_s=3.0,
    )
    corpus = settings.corpus_dir
    corpus.mkdir()
    (corpus / "note.md").write_text(f"# Note\n\n{TEXT}", encoding="utf-8")
    make_pdf(corpus / "rapport.pdf", [TEXT, "La fibre optique arrive dans les hameaux en 2027."])
    first = ingest(corpus, settings, progress=False)
    before = load_state(settings.index_dir)["documents"]
    # Every bad file appears, and an indexed PDF is replaced by a truncated copy of itself.
    for name, (write, _) in BAD_FILES.items():
        write(corpus / name)
    for leftover in corpus.glob("*.tmp"):
        leftover.unlink()
    _truncated(corpus / "rapport.pdf", corpus / "rapport.pdf")

    report = ingest(corpus, settings, progress=False)

    refused = dict(report.errors)
    assert sorted(refused) == sorted([*BAD_FILES, "rapport.pdf"])
    for name, (_, reason) in BAD_FILES.items():
        assert re.search(reason, refused[name]), refused[name]
    assert "fichier tronqué" in refused["rapport.pdf"]
    assert report.chunks_total == first.chunks_total
    assert load_state(settings.index_dir)["documents"] == before
    stored = open_store(settings).ids()
    assert stored == {i for entry in before.values() for i in entry["chunk_ids"]}
    assert f"{len(BAD_FILES) + 1} fichier(s) ignoré(s)" in report.summary()
