"""The English-word check of tests/i18n_words.py reads a page as its reader does:
what is shown counts, what is hidden, data, code or an address does not."""

from tests.i18n_words import ALLOWED, english_words


def test_shown_text_and_shown_attributes_count():
    html = """
    <html><head><title>Ticket list</title></head>
    <body><h1>工单</h1><p>Select <b>one</b> 工单</p>
    <input type="text" placeholder="Search here"><a href="/x" title="Show all">全部</a>
    <input type="submit" value="Save"><button>Go back</button>
    <select><option value="a">Urgent</option></select></body></html>
    """
    assert english_words(html) == {
        "Ticket", "list", "Select", "one", "Search", "here", "Show", "all", "Save", "Go", "back", "Urgent",
    }  # fmt: skip


def test_what_is_not_shown_is_not_read():
    html = """
    <script>var label = "English";</script><style>.x { color: red }</style>
    <template><p>Template</p></template><noscript>Enable scripts</noscript>
    <!-- a comment --><div hidden>Hidden</div><span class="x visually-hidden">Model name</span>
    <a href="/admin/tickets/" class="button" data-kind="urgent" aria-label="ignored">工单</a>
    <img src="x.svg" alt="True">
    """
    assert english_words(html) == set()


def test_data_code_and_addresses_are_not_read():
    html = """
    <input type="text" name="subject" value="Refund please"><textarea>Hello there</textarea>
    <p>变量 <code>{consumer_name}</code> · <pre><code>{"reason": "keyword"}</code></pre> <kbd>Enter</kbd></p>
    <p>跟踪链接 https://cs.example.cn/t/AbCdEf/ 邮箱 wang@example.cn（王）</p>
    """
    assert english_words(html) == set()


def test_a_run_with_a_digit_is_a_code_and_underscores_join_a_code():
    html = "<p>3h 05m · e3b0c44298fc · CS-20261123-000042 · merchant_replied · cs_desk</p>"
    assert english_words(html) == {"merchant_replied"}


def test_allowed_words_stand_alone_and_phrases_only_whole():
    assert "SLA" in ALLOWED and "Standard Webhooks" in ALLOWED
    html = "<p>SLA 目标 · Webhook 推送 · Standard Webhooks 标准 · 时区 Asia/Shanghai</p><p>Standard 用法</p>"
    assert english_words(html) == {"Standard"}
