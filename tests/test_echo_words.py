"""The echo check's memory of the bot's words, in process: an echo repeats the bot's words in
their order; a caller who uses some of them in a sentence of their own is not an echo."""

from exotel_bot.call.echo import ECHO_SHARE_AFTER, ECHO_SHARE_WHILE_SPEAKING, BotWords

GREETING = (
    "Hello! Thanks for calling. I can tell you where an order is, help you start a return, "
    "or put you through to a person on our team."
)


def test_the_bot_s_own_sentence_coming_back_is_echo_even_with_a_word_lost():
    words = BotWords()
    words.add(GREETING)
    assert words.share_spoken("I can tell you where an order is") == 1.0
    garbled = "I can tell you where the order is"  # Deepgram misheard one word of the echo
    assert words.share_spoken(garbled) >= ECHO_SHARE_WHILE_SPEAKING


def test_a_caller_reusing_the_bot_s_words_in_another_order_is_not_echo():
    words = BotWords()
    words.add(GREETING)
    assert words.share_spoken("Where is order 1234?") < ECHO_SHARE_WHILE_SPEAKING
    assert words.share_spoken("Is the order where you said?") < ECHO_SHARE_AFTER
    assert words.share_spoken("") == 0.0
