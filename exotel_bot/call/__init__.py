"""The call: control (hang-up, transfer, keypad, silence, time limit), turn detection, the VAD,
vendor fallbacks and the languages the bot speaks."""
