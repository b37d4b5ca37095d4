"""A tiny relevance set: chunks as lifelog builds them (a window's title, then the lines seen in
one minute; or a minute of speech), and queries that name each chunk's topic in other words,
in English and Chinese. Shared by tests/tokenize_media/test_embed.py and bench/embed_models.py."""

from __future__ import annotations

CHUNKS = {
    "k8s": "firefox — Pod keeps restarting · Issue #4471 · acme/deploy\n"
    "kubectl get pods -n payments\n"
    "payments-api-7d9f8c6b5-x2kqp   0/1   CrashLoopBackOff   14   32m\n"
    "kubectl logs payments-api-7d9f8c6b5-x2kqp --previous\n"
    "Error: listen EADDRINUSE: address already in use :::8080\n"
    "Back-off restarting failed container payments-api in pod\n"
    "Liveness probe failed: HTTP probe failed with statuscode: 503\n"
    "We bumped the memory limit to 512Mi but the pod still gets OOMKilled after a few minutes.",
    "pytest": "xterm — ~/src/webapp: pytest\n"
    "============================= test session starts ==============================\n"
    "tests/auth/test_login.py::test_login_with_valid_password FAILED\n"
    "tests/auth/test_login.py::test_login_rejects_expired_token PASSED\n"
    "E   AssertionError: expected status 302 redirect to /dashboard, got 401 Unauthorized\n"
    "E   assert response.status_code == 302\n"
    "FAILED tests/auth/test_login.py::test_login_with_valid_password - AssertionError\n"
    "========================= 1 failed, 41 passed in 3.12s =========================",
    "invoice": "Thunderbird — Inbox — Invoice 4821 is overdue\n"
    "From: accounts@northwind-supplies.com\n"
    "Subject: Reminder: invoice 4821 is 30 days overdue\n"
    "Dear customer, our records show that invoice 4821 for 1,240.00 EUR, issued on 12 October,\n"
    "has not been paid. Please arrange the bank transfer within 7 days to avoid a late fee.\n"
    "IBAN DE89 3704 0044 0532 0130 00 — reference INV-4821",
    "recipe": "firefox — Slow-roasted lamb shoulder — BBC Good Food\n"
    "Ingredients: 2 kg lamb shoulder, 1 bulb of garlic, a bunch of rosemary, olive oil, sea salt\n"
    "Heat the oven to 160C. Stud the lamb with garlic slivers and rosemary sprigs.\n"
    "Roast covered for four hours until the meat falls off the bone.\n"
    "Rest for 20 minutes, then pull apart with two forks and serve with roast potatoes.",
    "report": "WPS 表格 — 2026年第三季度财务报告\n"
    "第三季度营业收入为 4,820 万元，同比增长 12%。\n"
    "毛利率从 38% 提高到 41%，主要得益于原材料成本下降。\n"
    "销售费用增加 9%，管理费用基本持平。\n"
    "董事会建议下一季度继续扩大华东地区的市场投入。",
    "trip": "we still need to book the flights to Lisbon for the conference in March, "
    "the cheapest option was the early morning one via Madrid, and for the hotel "
    "I'd rather stay near the venue in Parque das Nações than in the old town, "
    "can you check whether the train from the airport runs that late",
}

# query -> the chunk it is about
QUERIES = {
    "why does my container keep crashing and restarting": "k8s",
    "kubernetes out of memory": "k8s",
    "failing unit test for signing in": "pytest",
    "login returns 401 instead of redirect": "pytest",
    "unpaid bill payment reminder": "invoice",
    "Northwind late fee": "invoice",
    "how long to cook the meat in the oven": "recipe",
    "dinner recipe with garlic": "recipe",
    "季度收入增长": "report",
    "毛利率": "report",
    "planning travel to Portugal": "trip",
    "booking a hotel near the conference": "trip",
}

# a query in one language about a chunk in the other (measured in the bench, not asserted)
CROSS_LINGUAL = {
    "quarterly revenue growth and profit margin": "report",
    "订机票去里斯本": "trip",
}
