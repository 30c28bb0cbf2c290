"""Templates to bytes: jinja2 pages, encoded as each language variant is served (Chinese in GBK)."""

from __future__ import annotations

import base64
import random
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.responses import Response

from sandbox.portal.labels import Labels

_ENVIRONMENT = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENVIRONMENT.globals["nbsp"] = Markup("&nbsp;")


def render_page(template: str, labels: Labels, **context: Any) -> bytes:
    """The page as the bytes the portal sends: UTF-8, or real GBK for the Chinese variant."""
    text = _ENVIRONMENT.get_template(template).render(
        t=labels.texts, lang=labels.language, charset=labels.charset, layout=labels.layout, **context
    )
    # Characters outside GBK would become &#...; references; the labels are all GBK-safe.
    return text.encode("gbk" if labels.charset == "GBK" else "utf-8", errors="xmlcharrefreplace")


def html_response(
    body: bytes, labels: Labels | None, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    charset = labels.charset if labels is not None else "utf-8"
    return Response(body, status_code=status, headers=headers, media_type=f"text/html; charset={charset}")


def captcha_image(seed: str) -> str:
    """A base64 SVG of wobbly characters: enough to look like a CAPTCHA, never meant to be read."""
    rng = random.Random(seed)
    letters = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))
    glyphs = []
    for index, letter in enumerate(letters):
        x, y, angle = 12 + index * 24, 30 + rng.randrange(-6, 7), rng.randrange(-25, 26)
        glyphs.append(
            f'<text x="{x}" y="{y}" transform="rotate({angle} {x} 30)" font-size="24" '
            f'font-family="monospace" fill="#333">{letter}</text>'
        )
    noise = [
        f'<line x1="{rng.randrange(160)}" y1="{rng.randrange(50)}" x2="{rng.randrange(160)}" '
        f'y2="{rng.randrange(50)}" stroke="#888" />'
        for _ in range(8)
    ]
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="50">'
        f'<rect width="160" height="50" fill="#eee"/>{"".join(glyphs)}{"".join(noise)}</svg>'
    )
    return base64.b64encode(svg.encode()).decode()
