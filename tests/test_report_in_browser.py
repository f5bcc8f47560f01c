"""The HTML report in a real browser with no network: Chromium from Debian's packages (installed
by .ci/run), with the network cut (a network namespace of its own), takes a screenshot of a real baked project's report.

REPORT_SCREENSHOT=<path> (set by `make screenshot`) also keeps the screenshot there: it is the
picture of the sample report in the generated README.
"""

import os
import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from conftest import attempt, run, set_params, trained_copy

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# A network namespace of its own with only a loopback that is down; --map-root-user lets it work
# without root where user namespaces are allowed.
OFFLINE = ["unshare", "--map-root-user", "--net"]
# matplotlib's first two colours: this model's curves and the accepted model's.
THIS_MODEL, ACCEPTED_MODEL = (31, 119, 180), (255, 127, 14)


def screenshot(page, png, tmp_path, width=1000):
    """A full-page screenshot of ``page`` taken offline; returns it as an RGB array cropped to the content."""
    command = [
        *OFFLINE, CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}", "--hide-scrollbars",
        # A window taller than any report, so the one screenshot holds the whole page; the virtual
        # time budget lets the page finish loading before the picture is taken.
        f"--window-size={width},8000", "--virtual-time-budget=5000", f"--screenshot={png}", page.as_uri(),
    ]
    process = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert process.returncode == 0 and png.exists(), process.stderr
    image = np.asarray(Image.open(png).convert("RGB"))
    used = np.flatnonzero((image < 245).any(axis=(1, 2)))
    assert used.size, "the screenshot is blank"
    return image[: used.max() + 20]


def pixels_like(image, colour, tolerance=40):
    return int((np.abs(image.astype(int) - colour).sum(axis=2) < tolerance).sum())


def test_the_html_report_shows_its_plots_in_a_browser_with_no_network(trained, tmp_path):
    assert subprocess.run([*OFFLINE, "true"]).returncode == 0, "the test cuts the network with unshare"
    project = trained_copy(trained, tmp_path / "project")
    run("make repro && make promote && git add -A && git commit -qm 'Promote' && make report", project)
    page = project / "reports/report.html"
    alone = screenshot(page, tmp_path / "alone.png", tmp_path)
    # A challenger: different parameters, retrained; the report overlays the accepted model.
    set_params(project, lambda p: p["train"]["xgboost"].update(n_estimators=60, max_depth=2))
    attempt("make repro", project)
    run("make report", project)

    image = screenshot(page, tmp_path / "report.png", tmp_path)
    print("pixels like this model, the accepted model, the accepted model before the challenger:",
          pixels_like(image, THIS_MODEL), pixels_like(image, ACCEPTED_MODEL), pixels_like(alone, ACCEPTED_MODEL))
    assert image.shape[0] > 2000 and image.std() > 20  # the whole report, not a blank or tiny page
    assert pixels_like(image, THIS_MODEL) > 2000  # this model's curves, bars and histograms
    # The accepted model's curves, drawn over this model's; absent while the model was the accepted one.
    assert pixels_like(alone, ACCEPTED_MODEL) < 200 and pixels_like(image, ACCEPTED_MODEL) > 1000

    # The same report with its figures on a web server instead of inlined: with the network off
    # the plots are gone, so the counts above do measure the plots.
    remote = tmp_path / "remote.html"
    remote.write_text(re.sub(r'src="data:image/png;base64,[^"]+"', 'src="https://example.com/figure.png"',
                             page.read_text()))
    without = screenshot(remote, tmp_path / "remote.png", tmp_path)
    assert pixels_like(without, THIS_MODEL) < 50 and pixels_like(without, ACCEPTED_MODEL) < 50

    if os.environ.get("REPORT_SCREENSHOT"):
        Image.fromarray(image).quantize(colors=128).save(os.environ["REPORT_SCREENSHOT"], optimize=True)
