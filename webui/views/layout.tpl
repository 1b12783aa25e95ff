<!DOCTYPE html>
<html lang="{{language}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="{{csrf}}">
<title>{{title}} · Branchline</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/branchline.css">
% for script in get('scripts', []):
<script src="/static/{{script}}" defer></script>
% end
</head>
<body>
<header class="topbar">
  <a class="brand" href="/"><img src="/static/favicon.svg" alt="" width="22" height="22">Branchline</a>
  % if user:
  <nav class="nav">
    <a href="/" class="{{'active' if get('active') == 'dashboard' else ''}}">Dashboard</a>
    % if can_see_records:
    <a href="/calls" class="{{'active' if get('active') == 'calls' else ''}}">Calls</a>
    % end
    % if get('can_see_lines'):
    <a href="/lines" class="{{'active' if get('active') == 'lines' else ''}}">Lines</a>
    % end
    % if get('can_configure'):
    <a href="/config" class="{{'active' if get('active') == 'config' else ''}}">{{_("Configuration")}}</a>
    % end
  </nav>
  <div class="whoami">
    <span class="who">{{user['username']}}</span>
    % for role in user['roles']:
    <span class="role-tag">{{_(role)}}</span>
    % end
    <form method="post" action="/logout">
      <input type="hidden" name="csrf_token" value="{{csrf}}">
      <button class="btn btn-dark" type="submit">Sign out</button>
    </form>
  </div>
  % end
</header>
<main class="{{get('main_class', 'page')}}">
{{!base}}
</main>
</body>
</html>
