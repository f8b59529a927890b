"""When has the caller finished speaking? Turn detection tuned for phone calls."""

from __future__ import annotations

from pipecat.audio.turn.smart_turn.base_smart_turn import SmartTurnParams
from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.turns.user_stop import TurnAnalyzerUserTurnStopStrategy
from pipecat.turns.user_turn_strategies import UserTurnStrategies

# Silence (after speech) before the turn model is asked whether the caller has finished.
VAD_STOP_SECS = 0.2
# If the turn model keeps saying "not finished", answer anyway after this much silence.
# Pipecat's default is 3 s, which feels like a dropped line on the phone.
TURN_FALLBACK_SECS = 1.0


def phone_vad() -> SileroVADAnalyzer:
    """Silero VAD: hears 8 and 16 kHz; 0.2 s of silence marks a possible end of turn."""
    return SileroVADAnalyzer(params=VADParams(stop_secs=VAD_STOP_SECS))


def phone_turn_strategies() -> UserTurnStrategies:
    """Start a turn on voice; end it when Smart Turn v3 says the sentence is complete."""
    analyzer = LocalSmartTurnAnalyzerV3(params=SmartTurnParams(stop_secs=TURN_FALLBACK_SECS))
    return UserTurnStrategies(stop=[TurnAnalyzerUserTurnStopStrategy(turn_analyzer=analyzer)])
