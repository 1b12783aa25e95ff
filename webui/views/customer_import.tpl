% rebase('layout', main_class='page page-wide')
<div class="page-head">
  <h1>{{_("Import customers")}}</h1>
  <p class="crumbs"><a href="/customers">{{_("Customers")}}</a></p>
</div>
<section class="card form-card">
  <p>{{_("A CSV file (UTF-8, or GB 18030 as Excel saves it in Chinese) with a header row. Columns: %(columns)s; name and phone numbers are required, several numbers separated by semicolons. The export's file is a valid import.") % {"columns": ", ".join(_(labels[f]) for f in fields)} }}</p>
  <p class="hint">{{_("Nothing is written until every row is valid: the preview lists each row's problems.")}}</p>
  % if error:
  <p class="form-error" role="alert" id="import-error">{{error}}</p>
  % end
  <form method="post" action="/customers/import" enctype="multipart/form-data" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label class="field"><span>{{_("CSV file")}}</span><input type="file" name="file" accept=".csv,text/csv" required></label>
    <button class="btn" type="submit">{{_("Preview")}}</button>
  </form>
</section>
% if rows is not None:
% bad = [r for r in rows if r['problems']]
<section class="panel" id="preview">
  <h2>{{_("Preview")}}</h2>
  % if bad:
  <p class="form-error" role="alert">{{ngettext("%(n)d row has problems: correct the file and preview it again. Nothing was imported.", "%(n)d rows have problems: correct the file and preview it again. Nothing was imported.", len(bad)) % {"n": len(bad)} }}</p>
  % elif rows:
  <form method="post" action="/customers/import" enctype="multipart/form-data" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="commit" value="1">
    <textarea name="text" hidden>{{text}}</textarea>
    <button class="btn btn-primary" type="submit" id="import-commit">{{ngettext("Import %(n)d customer", "Import %(n)d customers", len(rows)) % {"n": len(rows)} }}</button>
  </form>
  % else:
  <p class="muted">{{_("The file has no rows under its header.")}}</p>
  % end
  <div class="table-wrap">
    <table class="table" id="preview-rows">
      <thead><tr><th>{{_("Line")}}</th><th>{{_(labels['name'])}}</th><th>{{_(labels['numbers'])}}</th><th>{{_(labels['company'])}}</th><th>{{_("Problems")}}</th></tr></thead>
      <tbody>
      % for row in rows:
        <tr class="{{'row-bad' if row['problems'] else ''}}" data-line="{{row['line']}}">
          <td>{{row['line']}}</td>
          <td>{{row['data']['name'] or fmt.NONE}}</td>
          <td class="mono">{{"; ".join(row['card']['numbers']) if row['card'] else "; ".join(row['data']['numbers'] or [])}}</td>
          <td>{{row['data']['company'] or fmt.NONE}}</td>
          <td>
            % for field, message in row['problems'].items():
            <span class="field-error">{{_(labels[field]) if field in labels else field}}: {{message}}</span>
            % end
          </td>
        </tr>
      % end
      </tbody>
    </table>
  </div>
</section>
% end
