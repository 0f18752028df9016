"""A small multipart/form-data parser (RFC 7578), enough for the SDKs' edit requests."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message


class MultipartError(ValueError):
    """The body is not the multipart/form-data its content-type announces."""


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None  # None for a plain text field
    content_type: str | None
    data: bytes


def _header_params(header_name: str, value: str) -> Message:
    # email.message does RFC 2231/quoted-string parameter parsing for us.
    message = Message()
    message[header_name] = value
    return message


def boundary_of(content_type: str) -> str:
    header = _header_params("content-type", content_type)
    if header.get_content_type() != "multipart/form-data":
        raise MultipartError("Expected a multipart/form-data body.")
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise MultipartError("The multipart/form-data content-type has no boundary.")
    return boundary


def parse_multipart(content_type: str, body: bytes) -> list[Part]:
    """The parts of ``body``, in order; raises ``MultipartError`` when it is malformed."""
    delimiter = b"\r\n--" + boundary_of(content_type).encode("latin-1")
    # Prefixing CRLF lets the first delimiter be split like the others.
    chunks = (b"\r\n" + body).split(delimiter)
    parts: list[Part] = []
    for chunk in chunks[1:]:  # chunks[0] is the preamble
        if chunk.startswith(b"--"):
            return parts
        parts.append(_parse_part(chunk))
    raise MultipartError("The multipart body ends without its closing boundary.")


def _parse_part(chunk: bytes) -> Part:
    line_end = chunk.find(b"\r\n")
    if line_end < 0 or chunk[:line_end].strip(b" \t"):
        raise MultipartError("Malformed multipart boundary line.")
    rest = chunk[line_end + 2:]
    if rest.startswith(b"\r\n"):
        raw_headers, data = b"", rest[2:]
    else:
        header_end = rest.find(b"\r\n\r\n")
        if header_end < 0:
            raise MultipartError("A multipart part has no end of headers.")
        raw_headers, data = rest[:header_end], rest[header_end + 4:]
    headers = _parse_headers(raw_headers)
    disposition = headers.get("content-disposition")
    if disposition is None:
        raise MultipartError("A multipart part has no content-disposition.")
    parsed = _header_params("content-disposition", disposition)
    name = parsed.get_param("name", header="content-disposition")
    if parsed.get_content_disposition() != "form-data" or not isinstance(name, str):
        raise MultipartError("A multipart part is not a named form-data field.")
    return Part(name=name, filename=parsed.get_filename(), data=data,
                content_type=headers.get("content-type"))


def _parse_headers(raw: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in raw.decode("utf-8", errors="replace").split("\r\n"):
        name, sep, value = line.partition(":")
        if not sep:
            raise MultipartError(f"Malformed multipart header line: {line[:80]!r}.")
        headers[name.strip().lower()] = value.strip()
    return headers
