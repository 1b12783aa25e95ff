// Made by webui/locale_build.py from the catalogue (`make messages`); do not edit.
window.BranchlineCatalogue = {
 "lang": "zh",
 "messages": {
  "%(action)s does not fit an agent who is %(state)s.": "坐席处于“%(state)s”状态，不能执行“%(action)s”。",
  "%(agents)s agents answering (%(scheduled)s scheduled) give %(sl)s of calls answered within %(t)s s, ASA %(asa)s, occupancy %(occ)s.": "%(agents)s 名坐席接听（应排班 %(scheduled)s 人）时，%(sl)s 的来电可在 %(t)s 秒内接通，平均应答速度 %(asa)s，占用率 %(occ)s。",
  "%(control)s is not possible now.": "现在无法执行“%(control)s”。",
  "%(id)s · %(station)s via %(trunk)s": "%(id)s · %(station)s 经 %(trunk)s",
  "%(line)s: %(n)s digit heard": [
   "%(line)s：最近收到的 %(n)s 个按键，最新的在最后"
  ],
  "%(line)s: no digits heard yet; they appear here as the line hears them": "%(line)s：尚未收到按键；线路收到按键时会显示在这里",
  "%(n)s MB": "%(n)s MB",
  "%(n)s h": "%(n)s 小时",
  "%(n)s in wrap-up": [
   "%(n)s 人话后处理"
  ],
  "%(n)s line in alarm": [
   "%(n)s 条线路告警"
  ],
  "%(n)s line · %(in_use)s in use · %(alarms)s in alarm": [
   "%(n)s 条线路 · %(in_use)s 条占用 · %(alarms)s 条告警"
  ],
  "%(n)s logged in": [
   "%(n)s 人已签入"
  ],
  "%(n)s min": "%(n)s 分钟",
  "%(n)s more in the IVR": [
   "另有 %(n)s 通在 IVR 中"
  ],
  "%(n)s not ready": [
   "%(n)s 人示忙"
  ],
  "%(n)s of %(total)s in use": [
   "%(total)s 条中 %(n)s 条占用"
  ],
  "%(n)s of %(total)s logged in": [
   "%(total)s 人中 %(n)s 人已签入"
  ],
  "%(n)s overrun": [
   "超时 %(n)s 次"
  ],
  "%(n)s ready": [
   "%(n)s 人示闲"
  ],
  "%(n)s ringing": [
   "%(n)s 人振铃"
  ],
  "%(n)s s": "%(n)s 秒",
  "%(n)s talking": [
   "%(n)s 人通话"
  ],
  "%(n)s unreadable": [
   "%(n)s 次无法识别"
  ],
  "%(queue)s (%(n)s waiting)": "%(queue)s（%(n)s 人等待）",
  "%(supervisor)s barged in": "%(supervisor)s 已强插",
  "%(time)s of wrap-up left": "话后处理剩余 %(time)s",
  "%(worker)s waits since %(time)s: %(reason)s": "%(worker)s 自 %(time)s 起等待：%(reason)s",
  "(no group)": "（无分组）",
  "ASA": "平均应答",
  "Agents": "坐席",
  "Agents needed and calls per half hour": "每半小时所需坐席数与来电量",
  "Alarm": "告警",
  "Box %(id)s · board %(board)s · %(mode)s mode · up %(uptime)s · updated %(time)s": "设备 %(id)s · 板卡 %(board)s · %(mode)s 模式 · 已运行 %(uptime)s · 更新于 %(time)s",
  "Box %(id)s · board %(board)s · %(mode)s mode · updated %(time)s": "设备 %(id)s · 板卡 %(board)s · %(mode)s 模式 · 更新于 %(time)s",
  "Call records (database)": "通话记录（数据库）",
  "Campaign call to make": "待拨打的外呼联系人",
  "Choose where to send the call first (g), or type a number.": "请先选择转接目标（g），或输入号码。",
  "Code %(code)s saved.": "代码“%(code)s”已保存。",
  "Connected": "通话中",
  "Dial tone": "有拨号音",
  "Dialing": "拨号中",
  "Digits": "按键",
  "Engine not reachable.": "无法连接引擎。",
  "Fault": "故障",
  "Fix these to see the answer:": "请更正以下内容以查看结果：",
  "Head office holds every record (up to change %(seq)s).": "总部已取走全部记录（截至变更 %(seq)s）。",
  "Hide digits": "隐藏按键",
  "Idle": "空闲",
  "In IVR": "IVR 中",
  "Incoming call": "来电",
  "Last call": "上一通电话",
  "Live": "实时",
  "Loading the waveform…": "正在加载波形…",
  "Log in": "签入",
  "Log out": "签出",
  "Logged out": "已签出",
  "No article matches. Try fewer or other words.": "没有匹配的文章。请减少关键词或换用其他词。",
  "No customer card for this number": "此号码没有客户卡片",
  "No dial tone": "无拨号音",
  "No earlier calls": "没有以往通话",
  "No live data yet.": "尚无实时数据。",
  "No open tickets": "没有未完成的工单",
  "No post-call survey for this call's queue: choose one in the list (g).": "本通话所在队列没有通话后调查：请在列表中选择（g）。",
  "Not ready": "示忙",
  "Not tested": "未能测试",
  "Not yet taken by head office: %(n)s record and %(files)s files (%(size)s);": [
   "总部尚未取走：%(n)s 条记录和 %(files)s 个文件（%(size)s）；"
  ],
  "Occupancy": "占用率",
  "Offered calls": "进线量",
  "On a call with": "通话对方",
  "Pause": "暂停",
  "Play": "播放",
  "Post-call surveys": "通话后调查",
  "Queue journal": "队列日志",
  "Queued": "排队中",
  "Queues": "队列",
  "Ready": "示闲",
  "Ready agents": "就绪坐席",
  "Reconnecting…": "正在重新连接…",
  "Recordings": "录音",
  "Records are not being written.": "记录未能写入。",
  "Records wait to be written; none is lost.": "记录正在等待写入，没有丢失。",
  "Ringing": "振铃",
  "Ringing agent": "坐席振铃",
  "Scheduled": "应排班人数",
  "Service level": "服务水平",
  "Take the line off-hook and listen for dial tone": "让线路摘机并检测拨号音",
  "Taken up to change %(acked)s of %(latest)s.": "已取到变更 %(acked)s（最新为 %(latest)s）。",
  "Talking": "通话中",
  "Test line": "测试线路",
  "Testing": "测试中",
  "Testing…": "测试中…",
  "The box answered %(status)s for the HQ sync status.": "查询总部同步状态时设备返回 %(status)s。",
  "The box answered %(status)s.": "设备返回 %(status)s。",
  "The box did not answer.": "设备没有响应。",
  "The box does not answer; check the network and try again.": "设备没有响应，请检查网络后重试。",
  "The charts could not be drawn: %(error)s": "无法绘制图表：%(error)s",
  "The figures below are from %(time)s and are not live.": "以下数据截至 %(time)s，并非实时。",
  "The recording cannot be played in this browser.": "此浏览器无法播放该录音。",
  "The recording's audio could not be loaded.": "无法加载录音音频。",
  "The search did not answer.": "搜索无响应。",
  "The web server is not answering.": "Web 服务器无响应。",
  "This browser does not allow full screen here.": "此浏览器不允许在此全屏显示。",
  "VIP %(level)s": "VIP %(level)s",
  "Waiting": "等待中",
  "Waiting at all": "需等待的概率",
  "Working": "正常",
  "Wrap-up": "话后处理",
  "You are monitoring %(agent)s": "您正在监听 %(agent)s",
  "You are whispering to %(agent)s": "您正在对 %(agent)s 耳语辅导",
  "You have barged in on %(agent)s": "您已强插 %(agent)s 的通话",
  "You took the call over from %(agent)s": "您已从 %(agent)s 接管通话",
  "Your account is not linked to a supervisor id. Ask an administrator to link it.": "您的账号尚未关联班长工号。请联系管理员关联。",
  "Your phone is ringing: pick it up to join": "您的话机正在振铃：摘机即可加入",
  "ch %(channel)s · %(kind)s": "通道 %(channel)s · %(kind)s",
  "coached by %(supervisor)s": "%(supervisor)s 耳语辅导中",
  "due %(time)s": "截止 %(time)s",
  "fewest calls": "最少接听优先",
  "highest skill first": "技能等级优先",
  "last error: %(error)s": "最近错误：%(error)s",
  "least talk time": "最短通话时长优先",
  "listening %(seconds)s s": "监听 %(seconds)s 秒",
  "longest idle": "最长空闲优先",
  "mean %(mean)s ms · max %(max)s ms over %(count)s ticks": "平均 %(mean)s 毫秒 · 最长 %(max)s 毫秒（共 %(count)s 个周期）",
  "monitored by %(supervisor)s": "%(supervisor)s 监听中",
  "ms": "毫秒",
  "no alarms": "无告警",
  "no call": "无通话",
  "nobody on a call": "无人通话",
  "none in the IVR": "IVR 中无来电",
  "not tested": "未测试",
  "oldest: %(table)s %(id)s, %(age)s old.": "最早一条：%(table)s %(id)s，已有 %(age)s。",
  "on hold": "保持中",
  "remote": "远程",
  "ring all": "全部振铃",
  "round robin": "轮询",
  "since %(time)s: %(reason)s": "自 %(time)s 起：%(reason)s",
  "station": "分机",
  "target: %(seconds)s s": "目标：%(seconds)s 秒",
  "trunk": "中继",
  "unknown": "未知",
  "unknown number": "未知号码",
  "unreadable": "无法识别",
  "withheld": "号码隐藏"
 },
 "plurals": 1
};
