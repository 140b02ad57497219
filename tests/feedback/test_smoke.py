from tests.conftest import csrf_from


def test_customer_can_open_and_see_item(app, logged_in, make_user, make_order, user_by_email):
    client = logged_in("cust@example.com")
    with app.app_context():
        uid = user_by_email("cust@example.com").id
    number = make_order(uid)
    page = client.get(f"/feedback/new?order={number}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'value="{number}" selected' in html or f'selected value="{number}"' in html
    token = csrf_from(html)
    import re

    submission = re.search(r'name="submission" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post(
        "/feedback/new",
        data={
            "csrf_token": token,
            "kind": "complaint",
            "order": number,
            "subject": "Parcel damaged",
            "message": "Broken box",
            "submission": submission,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "We will answer by" in detail
    assert "FB-" in client.get("/feedback").get_data(as_text=True)
