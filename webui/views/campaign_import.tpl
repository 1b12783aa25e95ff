% rebase('layout', main_class='page page-wide')
<div class="page-head">
  <p class="crumbs"><a href="/campaigns">{{_("Campaigns")}}</a> › <a href="/campaigns/{{campaign['id']}}">{{campaign['name']}}</a></p>
  <h1>{{_("Import contacts")}}</h1>
</div>
<section class="card form-card">
  <p>{{_("A CSV file (UTF-8, or GB 18030 as Excel saves it in Chinese) with a header row: a column number (or 电话, 号码, 手机), optionally name (or 姓名); every other column is kept with the contact and shown to the agent.")}}</p>
  <p class="hint">{{_("Nothing is added until every row is valid. Numbers on the do-not-call list are added as “do not call” and never dialled.")}}</p>
  % if error:
  <p class="form-error" role="alert" id="import-error">{{error}}</p>
  % end
  <form method="post" action="/campaigns/{{campaign['id']}}/import" enctype="multipart/form-data" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label class="field"><span>{{_("CSV file")}}</span><input type="file" name="file" accept=".csv,text/csv" required></label>
    <button class="btn" type="submit">{{_("Preview")}}</button>
  </form>
</section>
% if rows is not None:
% bad = [r for r in rows if r['problem']]
<section class="panel" id="preview">
  <h2>{{_("Preview")}}</h2>
  % if bad:
  <p class="form-error" role="alert">{{ngettext("%(n)d row has problems: correct the file and preview it again. Nothing was imported.", "%(n)d rows have problems: correct the file and preview it again. Nothing was imported.", len(bad)) % {"n": len(bad)} }}</p>
  % elif rows:
  % if query is not None:
  <form method="post" action="/campaigns/{{campaign['id']}}/customers" class="stack">
    % for key, value in query.items():
    <input type="hidden" name="{{key}}" value="{{value}}">
    % end
  % else:
  <form method="post" action="/campaigns/{{campaign['id']}}/import" enctype="multipart/form-data" class="stack">
    <textarea name="text" hidden>{{text}}</textarea>
  % end
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="commit" value="1">
    <button class="btn btn-primary" type="submit" id="import-commit">{{ngettext("Add %(n)d contact", "Add %(n)d contacts", len(rows)) % {"n": len(rows)} }}</button>
  </form>
  % else:
  <p class="muted">{{_("The file has no rows under its header.")}}</p>
  % end
  <div class="table-wrap">
    <table class="table" id="preview-rows">
      <thead><tr><th>{{_("Line")}}</th><th>{{_("Number")}}</th><th>{{_("Name")}}</th><th>{{_("Data")}}</th><th>{{_("Problems")}}</th></tr></thead>
      <tbody>
      % for row in rows:
        <tr class="{{'row-bad' if row['problem'] else ''}}" data-line="{{row['line']}}">
          <td>{{row['line']}}</td>
          <td class="mono">{{row['number']}}</td>
          <td>{{row['name'] or fmt.NONE}}</td>
          <td>{{"; ".join(f"{k}: {v}" for k, v in row['data'].items()) or fmt.NONE}}</td>
          <td>
            % if row['problem']:
            <span class="field-error">{{row['problem']}}</span>
            % end
            % if row['dnc']:
            <span class="badge" data-dnc="1">{{_("on the do-not-call list")}}</span>
            % end
          </td>
        </tr>
      % end
      </tbody>
    </table>
  </div>
</section>
% end
