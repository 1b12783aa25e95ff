% rebase('layout', main_class='page page-wide')
<div class="page-head">
  <h1>{{_("Webhook endpoint")}}</h1>
  <p class="crumbs"><a href="/webhooks">{{_("Webhooks")}}</a> · <span class="mono">{{endpoint['url']}}</span>
    · {{_("changed %(when)s") % {"when": fmt.when(endpoint['updated_at'])} }}</p>
</div>
% if notice:
<p class="notice" role="status">{{notice}}</p>
% end
% if secret:
<p class="notice" role="status">{{_("The new secret is in use from the next delivery.")}}</p>
% end
<section class="card form-card">
  % if error:
  <p class="form-error" role="alert">{{error}}</p>
  % end
  <form method="post" action="/webhooks/{{endpoint['id']}}" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="version" value="{{endpoint['version']}}">
    % include('webhook_fields', form=endpoint, secret_hint=_("Leave empty to keep the current secret; type a new one (24 to 256 characters) to replace it."))
    <label class="check"><input type="checkbox" name="enabled" value="1" {{!'checked' if endpoint['enabled'] else ''}}>
      {{_("Enabled: a disabled endpoint keeps its waiting deliveries until it is enabled again")}}</label>
    <button class="btn btn-primary" type="submit">{{_("Save changes")}}</button>
  </form>
</section>
<div class="actions">
  <form method="post" action="/webhooks/{{endpoint['id']}}/test" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <button class="btn" type="submit" id="send-test">{{_("Send a test event")}}</button>
  </form>
  <form method="post" action="/webhooks/{{endpoint['id']}}/delete" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <button class="btn btn-warn" type="submit">{{_("Delete endpoint")}}</button>
  </form>
</div>
<section class="panel">
  <h2>{{_("Recent deliveries")}}</h2>
  % include('webhook_deliveries', retry_for=endpoint['id'])
</section>
