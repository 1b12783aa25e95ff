% import json
% rebase('layout', main_class='page page-wide')
<div class="page-head">
  <h1>{{_("Campaigns")}}</h1>
  <p><a class="btn btn-primary" href="/campaigns/new">{{_("New campaign")}}</a>
    <a class="btn btn-ghost" href="/dnc">{{_("Do-not-call list")}}</a></p>
</div>
<section class="panel">
  % if not campaigns:
  <p class="muted">{{_("No campaign yet.")}}</p>
  % else:
  <div class="table-wrap">
    <table class="table" id="campaigns" data-states="{{json.dumps(labels['states'], ensure_ascii=False)}}">
      <thead><tr><th>{{_("Name")}}</th><th>{{_("Mode")}}</th><th>{{_("Purpose")}}</th><th>{{_("State")}}</th><th>{{_("Contacts")}}</th><th>{{_("Done")}}</th><th>{{_("Pending")}}</th><th>{{_("Created")}}</th></tr></thead>
      <tbody>
      % for c in campaigns:
      % total = sum(n for s, n in c['counts'].items() if s != 'cancelled')
        <tr data-campaign="{{c['id']}}">
          <td><a href="/campaigns/{{c['id']}}">{{c['name']}}</a></td>
          <td>{{labels['modes'][c['mode']].split(' (')[0]}}</td>
          <td>{{labels['purposes'].get(c['purpose'], c['purpose'])}}</td>
          <td data-field="state">{{labels['states'].get(c['state'], c['state'])}}</td>
          <td data-field="total">{{total}}</td>
          <td data-field="done">{{c['counts'].get('done', 0) + c['counts'].get('failed', 0)}}</td>
          <td data-field="pending">{{c['counts'].get('pending', 0)}}</td>
          <td>{{fmt.when(c['created_at'])}}</td>
        </tr>
      % end
      </tbody>
    </table>
  </div>
  % end
</section>
