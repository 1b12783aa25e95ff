#!/usr/bin/env bash
# Regenerates the stock prompts in board/prompts/ with espeak-ng and sox (8 kHz, 16-bit, mono).
# The WAV files are committed; run this only to change a prompt's wording.
set -euo pipefail
cd "$(dirname "$0")/../board/prompts"
say() {  # say LANG VOICE NAME TEXT
  mkdir -p "$1"
  espeak-ng -v "$2" -s 150 -w /tmp/prompt.wav "$4"
  # Leading and trailing silence trimmed so that words said in a row (numbers) flow.
  sox /tmp/prompt.wav -r 8000 -c 1 -b 16 "$1/$3.wav" silence 1 0.02 -50d reverse silence 1 0.02 -50d reverse \
    pad 0 0.08 norm -6 rate -v 8000
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
# Prompts for saying numbers, amounts, dates and queue announcements (firmware/callcenter/say.py names them).
for n in $(seq 0 19) 20 30 40 50 60 70 80 90; do say en en-us "n-$n" "$n"; done
say en en-us n-hundred "hundred"; say en en-us n-thousand "thousand"; say en en-us n-million "million"
say en en-us star "star"; say en en-us pound "pound"
ordinals=(first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth
  fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth twenty-first twenty-second
  twenty-third twenty-fourth twenty-fifth twenty-sixth twenty-seventh twenty-eighth twenty-ninth thirtieth
  thirty-first)
for d in $(seq 1 31); do say en en-us "ord-$d" "${ordinals[$((d - 1))]}"; done
months=(January February March April May June July August September October November December)
for m in $(seq 1 12); do say en en-us "month-$m" "${months[$((m - 1))]}"; done
say en en-us cur-yuan "yuan"; say en en-us cur-fen "fen"
say en en-us you-are-caller "You are caller number"
say en en-us wait-about "Your expected wait is about"
say en en-us minute "minute"; say en en-us minutes "minutes"
say en en-us wait-under-a-minute "Your call will be answered in less than a minute."
zh_digits=(零 一 二 三 四 五 六 七 八 九 十)
for n in $(seq 0 10); do say zh cmn "n-$n" "${zh_digits[$n]}"; done
say zh cmn n-hundred "百"; say zh cmn n-thousand "千"; say zh cmn n-wan "万"; say zh cmn n-yi "亿"
say zh cmn star "星号"; say zh cmn pound "井号"
say zh cmn date-month "月"; say zh cmn date-day "日"
say zh cmn cur-yuan "元"; say zh cmn cur-jiao "角"; say zh cmn cur-fen "分"
say zh cmn you-are-caller "您是第"; say zh cmn caller-suffix "位来电"
say zh cmn wait-about "预计等待约"; say zh cmn minutes "分钟"
say zh cmn wait-under-a-minute "您的来电将在一分钟内接通。"
# Voicemail, callback, transfer, survey, hours and self-service prompts (the stock flows use them).
say en en-us leave-message "Please leave a message after the tone. Press pound when you are done."
say en en-us vm-thanks "Thank you. Your message has been saved."
say en en-us callback-confirm "We will call you back at"
say en en-us press-1-confirm-2-change "Press 1 to confirm, or 2 to enter another number."
say en en-us enter-number "Please enter your phone number, then press pound."
say en en-us callback-thanks "Thank you. We will call you back in turn. Goodbye."
say en en-us transfer-hold "Please hold while we transfer your call."
say en en-us queue-options "To leave a message, press 1. To be called back, press 2."
say en en-us survey-rate "Please rate our service today, from 1, poor, to 5, excellent."
say en en-us survey-thanks "Thank you for your feedback."
say en en-us closed "We are closed now. Our hours are nine to six, Monday to Friday."
say en en-us order-enter "Please enter your order number, then press pound."
say en en-us order-status-is "Your order is"
say en en-us order-not-found "Sorry, we could not find that order."
say en en-us order-processing "being processed."
say en en-us order-shipped "on its way."
say en en-us order-delivered "delivered."
say en en-us amount-due "The amount is"
say zh cmn leave-message "请在提示音后留言，结束请按井号键。"
say zh cmn vm-thanks "谢谢，您的留言已保存。"
say zh cmn callback-confirm "我们将回拨您的号码"
say zh cmn press-1-confirm-2-change "确认请按一，更改号码请按二。"
say zh cmn enter-number "请输入您的电话号码，以井号键结束。"
say zh cmn callback-thanks "谢谢，我们将按顺序给您回电，再见。"
say zh cmn transfer-hold "正在为您转接，请稍候。"
say zh cmn queue-options "留言请按一，预约回电请按二。"
say zh cmn survey-rate "请为本次服务评分，一分最差，五分最好。"
say zh cmn survey-thanks "感谢您的评价。"
say zh cmn closed "现在是非工作时间，我们的工作时间是周一至周五九点到十八点。"
say zh cmn order-enter "请输入您的订单号，以井号键结束。"
say zh cmn order-status-is "您的订单"
say zh cmn order-not-found "对不起，没有找到该订单。"
say zh cmn order-processing "正在处理中。"
say zh cmn order-shipped "已经发货。"
say zh cmn order-delivered "已经送达。"
say zh cmn amount-due "金额为"
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
