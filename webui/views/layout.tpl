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
% # A wallboard on a TV (/wallboard?tv=1) is the board alone: no bar, no menus.
% if not get('bare'):
<header class="topbar">
  <a class="brand" href="/"><img src="/static/favicon.svg" alt="" width="22" height="22">Branchline</a>
  % if user:
  <nav class="nav">
    <a href="/" class="{{'active' if get('active') == 'dashboard' else ''}}">{{_("Dashboard")}}</a>
    % if user.get('agent_id') and user_has('admin', 'supervisor', 'agent'):
    <a href="/console" class="{{'active' if get('active') == 'console' else ''}}">{{_("Console")}}</a>
    % end
    % if can_see_records:
    <a href="/calls" class="{{'active' if get('active') in ('calls', 'recordings') else ''}}">{{_("Calls")}}</a>
    % elif get('can_see_recordings'):
    <a href="/recordings" class="{{'active' if get('active') == 'recordings' else ''}}">{{_("Recordings")}}</a>
    % end
    % if get('can_see_wallboard'):
    <a href="/wallboard" class="{{'active' if get('active') == 'wallboard' else ''}}">{{_("Wallboard")}}</a>
    % end
    % if get('can_see_tickets'):
    <a href="/tickets" class="{{'active' if get('active') == 'tickets' else ''}}">{{_("Tickets")}}</a>
    % end
    % if get('can_see_campaigns'):
    <a href="/campaigns" class="{{'active' if get('active') == 'campaigns' else ''}}">{{_("Campaigns")}}</a>
    % end
    % if get('can_see_customers'):
    <a href="/customers" class="{{'active' if get('active') == 'customers' else ''}}">{{_("Customers")}}</a>
    % end
    % if get('can_see_reports'):
    <a href="/reports" class="{{'active' if get('active') == 'reports' else ''}}">{{_("Reports")}}</a>
    % end
    <a href="/kb" class="{{'active' if get('active') == 'kb' else ''}}">{{_("Knowledge base")}}</a>
    % if get('can_see_lines'):
    <a href="/lines" class="{{'active' if get('active') == 'lines' else ''}}">{{_("Lines")}}</a>
    % end
    % if get('can_see_tools'):
    <a href="/tools" class="{{'active' if get('active') == 'tools' else ''}}">{{_("Tools")}}</a>
    % end
    % # The box's administration in one menu, so the bar fits a 1280-pixel screen (a <details>: no script).
    % admin = [link for link in (("/config", "config", _("Configuration"), get('can_configure')),
    %                            ("/flows", "flows", _("Flows"), get('can_edit_flows')),
    %                            ("/quality", "quality", _("Quality form"), user_has('admin')),
    %                            ("/users", "users", _("Users"), user_has('admin')),
    %                            ("/audit", "audit", _("Audit log"), user_has('admin')),
    %                            ("/webhooks", "webhooks", _("Webhooks"), user_has('admin')),
    %                            ("/mail", "mail", _("E-mail"), user_has('admin')),
    %                            ("/sms", "sms", _("Texts"), get('can_see_tools')),
    %                            ("/backup", "backup", _("Backup"), user_has('admin')),
    %                            ("/hq-tokens", "hq-tokens", _("HQ tokens"), get('can_see_hq_tokens')),
    %                            ("/certificate", "certificate", _("HTTPS certificate"), user_has('admin'))) if link[3]]
    % if admin:
    <details class="nav-menu">
      <summary class="{{'active' if get('active') in [link[1] for link in admin] else ''}}">{{_("Administration")}}</summary>
      <div class="nav-menu-items">
        % for href, key, label, _shown in admin:
        <a href="{{href}}" class="{{'active' if get('active') == key else ''}}">{{label}}</a>
        % end
      </div>
    </details>
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
% end
<main class="{{get('main_class', 'page')}}">
{{!base}}
</main>
</body>
</html>
