import pytest

from enterprises.tests.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db


def test_home_page_shows_live_figures_and_the_way_in(client):
    EnterpriseFactory.create_batch(3)
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="figure-enterprises">3<' in body
    assert 'id="figure-documents">0<' in body
    assert 'href="/self-check/"' in body and "政策计算器" in body
