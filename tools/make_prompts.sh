#!/usr/bin/env bash
# Regenerates the stock prompts in board/prompts/ with espeak-ng and sox (8 kHz, 16-bit, mono).
# The WAV files are committed; run this only to change a prompt's wording.
set -euo pipefail
cd "$(dirname "$0")/../board/prompts"
say() {  # say LANG VOICE NAME TEXT
  mkdir -p "$1"
  espeak-ng -v "$2" -s 150 -w /tmp/prompt.wav "$4"
  sox /tmp/prompt.wav -r 8000 -c 1 -b 16 "$1/$3.wav" norm -6 rate -v 8000
}
say en en-us welcome "Thank you for calling Branchline. Calls are recorded for quality."
say en en-us main-menu "For sales, press 1. For service, press 2."
say en en-us invalid "Sorry, that is not a valid choice."
say en en-us no-input "Sorry, we did not hear your choice."
say en en-us please-hold "All our agents are busy. Please hold, and the next available agent will take your call."
say en en-us goodbye "Thank you for calling. Goodbye."
say zh cmn welcome "感谢您致电。为了服务质量，您的通话将被录音。"
say zh cmn main-menu "销售请按一，服务请按二。"
say zh cmn invalid "对不起，您的选择无效。"
say zh cmn no-input "对不起，我们没有听到您的选择。"
say zh cmn please-hold "坐席正忙，请稍候，我们将尽快为您接通。"
say zh cmn goodbye "感谢您的来电，再见。"
rm -f /tmp/prompt.wav
# Music on hold: a plucked arpeggio loop (C major, A minor, F, G), quiet enough to talk over.
notes="C4 E4 G4 C5 A3 C4 E4 A4 F3 A3 C4 F4 G3 B3 D4 G4"
parts=()
for n in $notes; do
  sox -n -r 8000 -b 16 -c 1 "/tmp/moh-$n.wav" synth 0.45 pluck "$n" fade 0 0.45 0.3 vol 0.35
  parts+=("/tmp/moh-$n.wav")
done
for lang in en zh; do sox "${parts[@]}" "$lang/music-on-hold.wav"; done
rm -f /tmp/moh-*.wav
