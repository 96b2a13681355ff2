"""`roomtone serve` with every codec factory raising: the server of the no-transcoding tests.

`python -m tests.codecfree [serve flags]` (tests/sfupeer.py's codec_free_sfu_server):
any decoder or encoder the server tried to open would raise and log
aiortc_adapter.FORBIDDEN_MARKER, so media reaching every participant proves
it forwards without transcoding.
"""

from __future__ import annotations

import sys

from roomtone.cli import main
from roomtone.sfu.aiortc_adapter import forbid_codecs

DISABLED = "tests.codecfree: codec factories disabled"

if __name__ == "__main__":
    forbid_codecs()
    print(DISABLED, flush=True)
    sys.exit(main(["serve", *sys.argv[1:]]))
