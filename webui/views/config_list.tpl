% rebase('layout', main_class='page page-wide')
<div class="page-head">
  <h1>{{_(part.title)}}</h1>
  <p class="crumbs">{{_("The box's site settings (config/site.toml). A change is checked whole, saved with the previous version kept, and applied to the running engine at once: calls in progress finish on the settings they started with.")}}</p>
</div>
% include('config_nav')
% if notice:
<p class="notice" role="status">{{notice}}</p>
% end
% if error:
<div class="form-error" role="alert">{{error}}</div>
% end
<section class="panel">
  <h2>{{_(part.title)}} <span class="count">{{len(items)}}</span>
    <a class="btn btn-primary btn-sm" href="/config/{{part.name}}/new">{{_("Add")}}</a></h2>
  <div class="table-wrap">
    <table class="table" id="config-{{part.name}}">
      <thead><tr>
        % for f in part.fields[:6]:
        <th>{{_(f.label)}}</th>
        % end
        <th class="actions-col">{{_("Actions")}}</th>
      </tr></thead>
      <tbody>
        % if not items:
        <tr class="empty"><td colspan="{{len(part.fields[:6]) + 1}}">{{_("None yet.")}}</td></tr>
        % end
        % for item in items:
        % shown = to_form(part, item)
        <tr>
          % for f in part.fields[:6]:
          % if shown[f.key]:
          <td>{{shown[f.key]}}</td>
          % else:
          <td class="default-value">{{_("default")}}</td>
          % end
          % end
          <td class="actions-col">
            <a class="btn btn-ghost btn-sm" href="/config/{{part.name}}/{{item.get(part.id_key)}}">{{_("Edit")}}</a>
            <form method="post" action="/config/{{part.name}}/{{item.get(part.id_key)}}/delete" class="inline">
              <input type="hidden" name="csrf_token" value="{{csrf}}">
              <input type="hidden" name="version" value="{{version}}">
              <button class="btn btn-warn btn-sm" type="submit">{{_("Remove")}}</button>
            </form>
          </td>
        </tr>
        % end
      </tbody>
    </table>
  </div>
</section>
