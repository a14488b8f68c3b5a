"""Uploaded images judged by their header, before anything decodes their pixels.

A PNG of a few kilobytes can claim 30000 x 30000 pixels and unpack to gigabytes (a decompression
bomb); Pillow's own guard (`Image.MAX_IMAGE_PIXELS`) only warns below twice its limit and is
process-wide, so every image upload is checked here against OPENCALL_MAX_IMAGE_PIXELS first.
"""

from __future__ import annotations

import warnings
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _

from opencall.core.errors import InvalidInput


def image_size(upload: Any) -> tuple[int, int] | None:
    """(width, height) read from the header, or None when Pillow cannot identify an image at all.

    Raises InvalidInput (under the key "image") when the picture has more pixels than allowed;
    the upload is rewound either way.
    """
    from PIL import Image, UnidentifiedImageError

    limit: int = settings.OPENCALL_MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            # Between Pillow's limit and twice it, a bomb is only a warning: make it an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as img:  # reads the header only
                width, height = img.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        width, height = limit + 1, 1
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    finally:
        upload.seek(0)
    if width * height > limit:
        raise InvalidInput(_("The image is too large."), errors={"image": [too_many_pixels()]})
    return width, height


def too_many_pixels() -> str:
    megapixels = settings.OPENCALL_MAX_IMAGE_PIXELS / 1_000_000
    return _("The picture has too many pixels: at most %(mp)s megapixels.") % {"mp": f"{megapixels:g}"}


class BoundedImageField(forms.ImageField):
    """Django's ImageField, with the pixel count checked from the header before it opens the file."""

    def to_python(self, data: Any) -> Any:
        upload = forms.FileField.to_python(self, data)
        if upload is not None:
            try:
                image_size(upload)
            except InvalidInput as exc:
                raise forms.ValidationError(exc.errors["image"][0], code="too_many_pixels") from exc
        return super().to_python(data)
