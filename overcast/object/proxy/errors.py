"""Swift's error responses: a status, a short HTML body, and the transaction id header."""

from __future__ import annotations

from starlette.responses import Response

EXPLANATIONS = {
    400: ("Bad Request", ""),
    401: ("Unauthorized", "This server could not verify that you are authorized to access "
          "the document you requested."),
    403: ("Forbidden", "Access was denied to this resource."),
    404: ("Not Found", "The resource could not be found."),
    405: ("Method Not Allowed", "The method is not allowed for this resource."),
    406: ("Not Acceptable", "The server cannot return the requested format."),
    409: ("Conflict", "There was a conflict when trying to complete your request."),
    411: ("Length Required", "Missing Content-Length header."),
    412: ("Precondition Failed", "A precondition for this request was not met."),
    413: ("Request Entity Too Large", "The body of your request was too large for this server."),
    416: ("Requested Range Not Satisfiable", "The Range requested is not available."),
    422: ("Unprocessable Entity", "Unable to process the contained instructions"),
    499: ("Client Disconnect", "The client was disconnected during request."),
    503: ("Service Unavailable", "The server is currently unavailable. Please try again at a "
          "later time."),
}  # fmt: skip


def error(status: int, detail: str = "", headers: dict[str, str] | None = None) -> Response:
    """Swift's body for ``status``: ``detail`` when given, else the standard explanation."""
    title, explanation = EXPLANATIONS.get(status, ("Error", ""))
    body = detail or f"<html><h1>{title}</h1><p>{explanation}</p></html>"
    media = "text/plain" if detail else "text/html"
    return Response(body, status_code=status, headers=headers, media_type=media)
