"""The fake accounts the fixtures configure: obviously fake, realistically shaped secrets.

Kept apart from the fixtures so tests can import them without importing the pytest plugin.
"""

from tests.fakes.bluesky import Account as BlueskyAccount
from tests.fakes.mastodon import Account as MastodonAccount
from tests.fakes.telegram import Bot
from tests.fakes.x import Account

PAGE_EN, PAGE_KU, PAGE_TR = "104123456789", "104987654321", "105246813579"
#: page id -> (page access token, page name)
PAGES = {
    PAGE_EN: (
        "EAAFAKEPAGEtokenEN0ZBxq7vT3pLmN4sQ8wYrKd2ZCjH5uF0aGbZCe9XyZAWvS1oPiU6nM3tR",
        "Gamechangers",
    ),
    PAGE_KU: (
        "EAAFAKEPAGEtokenKU0ZBm2nB7vC4xZ9lK3jH6gF1dS8aQ5wE0rT2yU7iO4pZAcXv9bN1mL",
        "Gamechangers Kurmancî",
    ),
    PAGE_TR: (
        "EAAFAKEPAGEtokenTR0ZBp4oI9uY2tR7eW3qA6sD1fG8hJ5kL0zX4cV7bN2mQ9wZAeRt3yU",
        "Gamechangers Türkçe",
    ),
}
X_EN = Account(
    user_id="1512345678901234567",
    username="gamechangers_en",
    name="Gamechangers",
    api_key="FAKEapiKEYx0x7qK2mN9pL4vR8tW3yZ6",
    api_secret="FAKEapiSECRETx0x4Jd8Hs2Kf6Lg9Mz3Nq7Pw1Rt5Vy8Xb2Cn6Dm0Fh4Gj7",
    access_token="1512345678901234567-FAKEaccessTOKENx0xQw3Er5Ty7Ui9Op",
    access_token_secret="FAKEaccessSECRETx0xAs2Df4Gh6Jk8Lz1Xc3Vb5Nm7Qw9Er0Ty",
)
X_BEARER = "AAAAAAAAAAAAAAAAAAAAAFAKEbearerTOKENx0x%2BaB3cD5eF7gH9iJ1kL3mN5oP7qR9sT"

MASTODON_EN = MastodonAccount(
    id="109345678901234567",
    username="sea_coop",
    display_name="SEA Co-op",
    token="FAKEmastodonTOKENx0xZpQ7vN3kR8sT2wY5bC9dF4gH6jL1mX",
)
TELEGRAM_BOT = Bot(
    id=7012345678, username="sea_crosspost_bot", secret="AAFAKEtelegramSECRETx0xQ3vB7nM1kL9pR5tY2wZ"
)
TELEGRAM_CHAT = "@sea_kurdi"
BSKY_EN = BlueskyAccount(
    handle="sea-coop.bsky.social", did="did:plc:fake7kq2mzx4vw3rt6yh5pnj",
    password="FAKEmainPASSWORDx0xNeverUsed9", app_passwords=["fk7q-2mzx-4vw3-rt6y"],
    email="sea@example.org",
)
