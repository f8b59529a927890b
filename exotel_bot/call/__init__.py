"""The call: control (hang-up, transfer, keypad, silence, time limit), turn detection, the VAD,
vendor fallbacks, the languages the bot speaks and the phrases it says in each."""
