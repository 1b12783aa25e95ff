% rebase('layout', main_class='page page-wide')
<div class="page-head">
  <h1>{{_("VIP customers")}}</h1>
  <p class="crumbs">{{_("A VIP caller waits ahead of ordinary callers, higher levels first; a flow's caller node can send them their own way. The box knows a caller by the number caller ID gives; a change takes effect within a few seconds, no reload needed.")}}</p>
</div>
% include('config_nav', part=None)
% if notice:
<p class="notice" role="status">{{notice}}</p>
% end
<section class="panel">
  <h2>{{_("Add or change a level")}}</h2>
  <form method="post" action="/config/vip" class="stack card" id="vip-form">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % for key, label, hint in (("number", _("Phone number"), _("As caller ID gives it: 1-20 digits.")), ("vip", _("VIP level"), _("1-%(max)d; higher is served first.") % {"max": max_vip}), ("name", _("Name"), _("Optional; kept if the customer has one."))):
    <label class="field">
      <span>{{label}}</span>
      <input name="{{key}}" value="{{values.get(key, '')}}" class="{{'invalid' if key in problems else ''}}" maxlength="80">
      % if key in problems:
      <span class="field-error" role="alert">{{problems[key]}}</span>
      % end
      <span class="hint">{{hint}}</span>
    </label>
    % end
    <button class="btn btn-primary" type="submit">{{_("Save")}}</button>
  </form>
</section>
<section class="panel">
  <h2>{{_("VIP customers")}} <span class="count">{{len(items)}}</span></h2>
  <div class="table-wrap">
    <table class="table" id="vip-customers">
      <thead><tr><th>{{_("Phone number")}}</th><th>{{_("Name")}}</th><th class="num">{{_("VIP level")}}</th>
        <th class="actions-col">{{_("Actions")}}</th></tr></thead>
      <tbody>
        % if not items:
        <tr class="empty"><td colspan="4">{{_("None yet.")}}</td></tr>
        % end
        % for item in items:
        <tr>
          <td>{{item['number']}}</td><td>{{item['name']}}</td><td class="num">{{item['vip']}}</td>
          <td class="actions-col">
            <form method="post" action="/config/vip/{{item['number']}}/delete" class="inline">
              <input type="hidden" name="csrf_token" value="{{csrf}}">
              <button class="btn btn-warn btn-sm" type="submit">{{_("Remove level")}}</button>
            </form>
          </td>
        </tr>
        % end
      </tbody>
    </table>
  </div>
</section>
