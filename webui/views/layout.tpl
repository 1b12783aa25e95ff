<!DOCTYPE html>
<html lang="{{language}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="{{csrf}}">
<title>{{title}} · Branchline</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/branchline.css">
% if get('scripts'):
<script src="/static/i18n/{{language}}.js" defer></script>
<script src="/static/i18n.js" defer></script>
% end
% for script in get('scripts', []):
<script src="/static/{{script}}" defer></script>
% end
</head>
<body>
<header class="topbar">
  <a class="brand" href="/"><img src="/static/favicon.svg" alt="" width="22" height="22">Branchline</a>
  % if user:
  <nav class="nav">
    <a href="/" class="{{'active' if get('active') == 'dashboard' else ''}}">{{_("Dashboard")}}</a>
    % if can_see_records:
    <a href="/calls" class="{{'active' if get('active') == 'calls' else ''}}">{{_("Calls")}}</a>
    % end
    % if get('can_see_customers'):
    <a href="/customers" class="{{'active' if get('active') == 'customers' else ''}}">{{_("Customers")}}</a>
    % end
    % if get('can_see_lines'):
    <a href="/lines" class="{{'active' if get('active') == 'lines' else ''}}">{{_("Lines")}}</a>
    % end
    % if user_has('admin'):
    <a href="/users" class="{{'active' if get('active') == 'users' else ''}}">{{_("Users")}}</a>
    <a href="/audit" class="{{'active' if get('active') == 'audit' else ''}}">{{_("Audit log")}}</a>
    % end
    % if user_has('admin'):
    <a href="/backup" class="{{'active' if get('active') == 'backup' else ''}}">{{_("Backup")}}</a>
    % end
    % if get('can_edit_flows'):
    <a href="/flows" class="{{'active' if get('active') == 'flows' else ''}}">{{_("Flows")}}</a>
    % end
  </nav>
  <div class="whoami">
    <a class="who" href="/account" title="{{_("Your account")}}">{{user['username']}}</a>
    % for role in user['roles']:
    <span class="role-tag">{{_(role)}}</span>
    % end
    <form method="post" action="/logout">
      <input type="hidden" name="csrf_token" value="{{csrf}}">
      <button class="btn btn-dark" type="submit">{{_("Sign out")}}</button>
    </form>
  </div>
  % end
</header>
<main class="{{get('main_class', 'page')}}">
{{!base}}
</main>
</body>
</html>
