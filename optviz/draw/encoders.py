"""Encoders: the frames of an animation into a GIF (Pillow, one palette for the whole clip) or
an MP4 (H.264 in yuv420p through the ffmpeg binary the ``imageio-ffmpeg`` wheel ships, so it
plays in browsers and slides); an unfinished writer is stopped and its ffmpeg reaped."""

from __future__ import annotations

import math
import os
import subprocess
from contextlib import suppress

from matplotlib import animation as _animation
from matplotlib.animation import FFMpegWriter, PillowWriter


class GifWriter(PillowWriter):
    """Matplotlib's PillowWriter, but every frame is reduced as it is grabbed to one 256-colour
    palette, made from a key frame (the last one: every path drawn) plus swatches of the
    optimizers' exact colours. A third of the memory, no palette flicker, true colours."""

    def setup(self, fig, outfile, dpi=None):
        super().setup(fig, outfile, dpi=dpi)
        self._palette = None

    def _rgb(self):
        from PIL import Image

        w, h = self.frame_size
        return Image.frombuffer("RGBA", (w, h), self.fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1
                                ).convert("RGB")

    def make_palette(self, colors: list[str]) -> None:
        """Build the palette from the canvas as last drawn and the given colours."""
        from matplotlib.colors import to_rgb
        from PIL import Image

        key = self._rgb()
        w, h = key.size
        swatch = 48  # px per side: enough weight for median cut to keep each colour
        rows = max(1, math.ceil(len(colors) * swatch / w))
        sheet = Image.new("RGB", (w, h + rows * swatch), "white")
        sheet.paste(key, (0, 0))
        for i, c in enumerate(colors):
            x, y = (i * swatch) % w, h + (i * swatch) // w * swatch
            rgb = tuple(round(255 * v) for v in to_rgb(c))
            sheet.paste(Image.new("RGB", (swatch, swatch), rgb), (x, y))
        self._palette = sheet.quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                       dither=Image.Dither.NONE)

    def grab_frame(self, **savefig_kwargs):
        """Take the canvas as last drawn (see ``_Frame.draw``): no second draw of the figure."""
        from PIL import Image

        im = self._rgb()
        if self._palette is None:
            self.make_palette([])
        self._frames.append(im.quantize(palette=self._palette, dither=Image.Dither.NONE))


class Mp4Writer(FFMpegWriter):
    """FFMpegWriter using imageio-ffmpeg's binary (no global rcParams change)."""

    @classmethod
    def bin_path(cls):
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()

    @classmethod
    def isAvailable(cls):
        return True

    def _run(self):
        """Start ffmpeg as matplotlib does, but in a session of its own (POSIX): a Ctrl-C at the
        terminal or a SIGTERM sent to the process group reaches optviz only, which then kills
        ffmpeg and removes the temporary file (see :func:`abort`). Otherwise ffmpeg would
        finish the file on its own and race optviz's cleanup."""
        pipe = subprocess.PIPE
        self._proc = subprocess.Popen(
            self._args(), stdin=pipe, stdout=pipe, stderr=pipe,
            creationflags=_animation.subprocess_creation_flags, start_new_session=os.name == "posix",
        )

    def grab_frame(self, **savefig_kwargs):
        """Send the canvas as last drawn (see ``_Frame.draw``) to ffmpeg's pipe."""
        self._proc.stdin.write(self.fig.canvas.buffer_rgba())


def writer(ext: str, fps: float):
    if ext == ".gif":
        return GifWriter(fps=fps)
    return Mp4Writer(
        fps=fps, codec="libx264",
        extra_args=["-pix_fmt", "yuv420p", "-crf", "20", "-movflags", "+faststart"],
    )


def abort(writer) -> None:
    """Stop an unfinished writer (kill ffmpeg and reap it) so that its temporary file can be
    removed and no ffmpeg is left running."""
    proc = getattr(writer, "_proc", None)
    if proc is None:
        return
    if proc.poll() is None:
        with suppress(OSError):
            proc.kill()
    with suppress(Exception):
        proc.communicate(timeout=10)


