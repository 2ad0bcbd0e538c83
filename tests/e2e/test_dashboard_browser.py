"""The desk's page in a real browser (Debian's chromium and chromium-driver, driven by Selenium; nothing is
downloaded): it loads, a headline posted through the API appears without a reload, and a merge done on the page
is what the API then answers."""
from __future__ import annotations

import os
import shutil

import pytest
import requests

from headline_dedup import apikeys
from headline_dedup.service import create_app
from headline_dedup.settings import Settings
from headline_dedup.workers.clusterer import Clusterer
from tests.e2e.conftest import threaded_server
from tests.integration.helpers import running

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WAIT = 20  # seconds a browser step may take on a loaded machine


def _browser(profile):
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:  # a real part missing fails the run, as a missing Redis does
        pytest.fail(f"the browser tests need {' and '.join(missing)}: as root, `apt-get install chromium "
                    "chromium-driver` (make test does it when it runs as root)")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a browser or a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                "--lang=fr-FR", f"--user-data-dir={profile}"):  # the profile in the test's own directory
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture
def desk(redis_client, tmp_path):
    """A live API (threaded server) serving a second namespace, with an editor's key, a worker for each
    namespace, and a headless Chromium."""
    key, entry = apikeys.generate("desk-editor", ["edit", "read", "ingest"])
    settings = Settings(worker_block_ms=50, auth_disabled=False, api_keys=entry, namespaces="sport")
    app = create_app(settings, redis_client)
    browser = _browser(tmp_path / "chromium")
    sport = settings.model_copy(update={"namespace": "sport", "namespaces": ""})
    try:
        with running(Clusterer(redis_client, settings, name="w1"), Clusterer(redis_client, sport, name="w2")), \
                threaded_server(app) as url:
            yield browser, url, {"Authorization": f"Bearer {key}"}, key
    finally:
        browser.quit()


def _post(url, auth, texts, prefix, namespace=None):
    desk = {"X-Namespace": namespace} if namespace else {}
    r = requests.post(f"{url}/v1/headlines?wait=20", headers={**auth, **desk}, timeout=30,
                      json={"headlines": [{"id": f"{prefix}{i}", "text": t, "source": "AFP"}
                                          for i, t in enumerate(texts)]})
    assert r.status_code == 202
    return r.json()["headlines"]


def _open_page(browser, url, key, page="/"):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url + page)
    assert browser.title.startswith("headline-dedup")
    browser.find_element(By.ID, "key").send_keys(key)
    browser.find_element(By.CSS_SELECTOR, "#key-form button").click()
    WebDriverWait(browser, WAIT).until(ec.text_to_be_present_in_element((By.ID, "status"), "live"))


def _story(browser, text):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def find(_):
        for item in browser.find_elements(By.CSS_SELECTOR, "#stories li"):
            if text in item.text:
                return item
        return False
    # The list is re-rendered as events arrive: an item read mid-render is looked up again.
    return WebDriverWait(browser, WAIT, ignored_exceptions=(StaleElementReferenceException,)).until(find)


def test_a_posted_headline_appears_live_with_its_accents(desk):
    browser, url, auth, key = desk
    _open_page(browser, url, key)
    assert browser.find_elements("css selector", "#stories li") == []
    text = "Zone euro : la croissance cale en fin d'année, l'Allemagne à l'arrêt"
    _post(url, auth, [text], "a")
    item = _story(browser, text)  # no reload: it came through the event stream
    assert "AFP" in item.text and item.find_element("css selector", ".size").text == "1"
    second = "Zone euro: la croissance a calé en fin d'année, l'Allemagne à l'arrêt"
    _post(url, auth, [second], "b")
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, WAIT).until(lambda _: _story(browser, "Zone euro").find_element(
        "css selector", ".size").text == "2")


def test_a_merge_on_the_page_is_what_the_api_answers(desk):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser, url, auth, key = desk
    bourse, europe = _post(url, auth, ["La Bourse de Paris salue la baisse des taux de la BCE",
                                       "Les Bourses européennes terminent dans le vert après la BCE"], "s")
    assert bourse["cluster_id"] != europe["cluster_id"]
    _open_page(browser, url, key)
    _story(browser, "Les Bourses européennes").click()
    WebDriverWait(browser, WAIT).until(lambda _: "européennes" in browser.find_element(By.ID, "story-title").text)
    Select(browser.find_element(By.ID, "merge-target")).select_by_value(bourse["cluster_id"])
    browser.find_element(By.ID, "merge").click()
    WebDriverWait(browser, WAIT).until(lambda _: len(browser.find_elements(By.CSS_SELECTOR, "#members tr")) == 2)
    merged = requests.get(f"{url}/v1/clusters/{europe['cluster_id']}", headers=auth, timeout=10).json()
    assert merged["id"] == bourse["cluster_id"] and merged["size"] == 2 and merged["merged"] == [europe["cluster_id"]]
    assert not browser.find_element(By.ID, "error").is_displayed()


def test_search_ignores_accents_and_case_and_filters_live_updates_too(desk):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser, url, auth, key = desk
    _post(url, auth, ["États-Unis: statu quo sur les taux de la Fed", "Lyon: grève des bus lundi"], "s")
    _open_page(browser, url, key)
    _story(browser, "Lyon: grève")
    browser.find_element(By.ID, "search").send_keys("etats-unis\n")
    WebDriverWait(browser, WAIT).until(lambda _: len(browser.find_elements(By.CSS_SELECTOR, "#stories li")) == 1)
    _post(url, auth, ["Le Sénat veut renforcer la protection des haies",
                      "États-Unis: la Californie ravagée par les incendies"], "t")
    _story(browser, "Californie ravagée")  # arrived live and matches the search, accents aside
    texts = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#stories li")]
    assert len(texts) == 2 and not any("Sénat" in t for t in texts)


def test_a_desks_page_shows_its_own_namespace(desk):
    from selenium.webdriver.common.by import By

    browser, url, auth, key = desk
    _post(url, auth, ["Ligue 1 : le PSG s'impose à Lyon et creuse l'écart en tête"], "sp", namespace="sport")
    _post(url, auth, ["Conseil municipal de Redon : le budget voté"], "city")
    _open_page(browser, url, key, "/?namespace=sport")
    assert browser.find_element(By.ID, "title").text == "Stories · sport"
    _story(browser, "le PSG s'impose à Lyon")
    assert "Redon" not in browser.find_element(By.ID, "stories").text  # the default namespace's story is not here
