"""The README's screenshot of the desk's page: the seed feed posted to a real stack (bundled Redis, `api`, one
`worker`), the page opened in Debian's headless chromium with the key, the largest story opened.

    .venv/bin/python -m bench.screenshot [--out docs/dashboard.png]
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import requests

from bench.data import SEED, seed
from bench.service import stack

ROOT = Path(__file__).resolve().parents[1]


def capture(out: Path) -> Path:
    os.environ["SE_OFFLINE"] = "true"  # never fetch a browser or a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900",
                "--lang=fr-FR", "--hide-scrollbars"):
        options.add_argument(arg)
    with stack(1) as (url, _, auth, _pids):
        texts = seed(SEED)
        body = {"headlines": [{"id": f"seed-{i}", "text": t, "source": ("AFP", "Reuters", "Le Monde")[i % 3]}
                              for i, t in enumerate(texts)]}
        requests.post(f"{url}/v1/headlines?wait=30", json=body, headers=auth, timeout=60).raise_for_status()
        browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            browser.get(url + "/")
            browser.find_element(By.ID, "key").send_keys(auth["Authorization"].split()[1])
            browser.find_element(By.CSS_SELECTOR, "#key-form button").click()
            WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#stories li"))
            biggest = max(browser.find_elements(By.CSS_SELECTOR, "#stories li"),
                          key=lambda li: int(li.find_element(By.CSS_SELECTOR, ".size").text))
            biggest.click()
            WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#members tr"))
            browser.execute_script("window.scrollTo(0, 0)")
            time.sleep(2.5)  # the highlight of fresh stories fades
            out.parent.mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(str(out))
        finally:
            browser.quit()
    return out


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.screenshot", description=__doc__)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "dashboard.png")
    print(capture(p.parse_args().out))


if __name__ == "__main__":
    main()
