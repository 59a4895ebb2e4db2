// 简体中文. Every string the app shows. The object is strict JSON (double
// quotes, no trailing commas): tests/unit/gateway/test_web.py reads it and
// checks that en.js has the same keys. Placeholders: {name}; never | or @.
export default {
  "app": {
    "name": "Dealerflow",
    "tagline": "销售线索跟进"
  },
  "bar": {
    "back": "返回",
    "signOut": "退出",
    "language": "语言"
  },
  "connection": {
    "offline": "网络已断开，正在重试…"
  },
  "signin": {
    "title": "登录",
    "username": "用户名",
    "password": "密码",
    "submit": "登录",
    "submitting": "正在登录…",
    "wrong": "用户名或密码不正确。",
    "locked": "尝试次数过多，账号已暂时锁定。请在 {minutes} 分钟后再试。",
    "offline": "无法连接服务器。请检查网络后再试。",
    "failed": "登录失败：{reason}",
    "signedOut": "你已退出登录。"
  },
  "expired": {
    "title": "登录已过期",
    "body": "为了安全，你需要重新登录。",
    "again": "重新登录"
  },
  "notFound": {
    "title": "页面不存在",
    "home": "返回线索列表"
  },
  "leads": {
    "mine": "我的线索",
    "store": "门店线索",
    "all": "全部线索",
    "filters": "筛选线索",
    "status": "状态",
    "anyStatus": "全部状态",
    "search": "搜索",
    "searchHint": "姓名、电话或车型",
    "loading": "正在加载…",
    "empty": "暂无线索。新线索会自动出现在这里。",
    "more": "加载更多",
    "new": "新",
    "arrived": "新线索：{name}",
    "failed": "线索加载失败：{reason}"
  },
  "clock": {
    "left": "剩 {time}",
    "overdue": "超时 {minutes} 分钟",
    "overdueHours": "超时 {hours} 小时",
    "contacted": "已联系"
  },
  "lead": {
    "title": "线索详情",
    "call": "拨打 {phone}",
    "unavailable": "部分信息暂时无法获取，请稍后刷新。",
    "notFound": "找不到这条线索，或它不在你的权限范围内。",
    "customer": "客户",
    "name": "姓名",
    "phone": "电话",
    "email": "邮箱",
    "city": "城市",
    "interest": "意向",
    "vehicle": "车型",
    "budget": "预算",
    "timeframe": "购车时间",
    "finance": "贷款",
    "testDrive": "试驾",
    "tradeIn": "置换",
    "comments": "备注",
    "noComments": "无备注",
    "details": "线索信息",
    "status": "状态",
    "store": "门店",
    "channel": "渠道",
    "source": "来源",
    "provider": "线索提供方",
    "consultant": "顾问",
    "unassigned": "未分配",
    "received": "收到时间",
    "receivedNote": "收到时间说明",
    "due": "首次联系截止",
    "assignments": "分配记录",
    "noAssignments": "暂无分配记录",
    "tasks": "任务",
    "noTasks": "暂无任务",
    "taskDue": "截止 {time}",
    "yes": "是",
    "no": "否"
  },
  "status": {
    "accepted": "待分配",
    "assigned": "已分配",
    "contacted": "已联系",
    "won": "已成交",
    "lost": "战败"
  },
  "channel": {
    "website": "官网",
    "third_party": "第三方平台",
    "auto_show": "车展",
    "referral": "转介绍",
    "walk_in": "到店",
    "phone": "电话",
    "social": "社交媒体",
    "other": "其他"
  },
  "timeframe": {
    "within_7_days": "7 天内",
    "within_15_days": "15 天内",
    "within_30_days": "30 天内",
    "within_3_months": "3 个月内"
  },
  "reason": {
    "round_robin": "轮流分配",
    "reassigned": "重新分配",
    "sla_breach": "超时改派"
  },
  "task": {
    "first_contact": "首次联系",
    "followup": "跟进",
    "open": "待办",
    "done": "已完成",
    "overdue": "已逾期"
  }
};
