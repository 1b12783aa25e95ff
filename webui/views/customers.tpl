% rebase('layout', main_class='page page-wide')
<div class="page-head">
  <h1>{{_("Customers")}}</h1>
  <p class="muted">
    % if total:
    {{ngettext("%(first)s–%(last)s of %(total)s customer", "%(first)s–%(last)s of %(total)s customers", total) % {'first': fmt.number((page - 1) * per_page + 1), 'last': fmt.number(min(page * per_page, total)), 'total': fmt.number(total)} }}
    % else:
    {{_("No customers match.")}}
    % end
  </p>
</div>
% if imported:
<p class="notice" role="status">{{ngettext("%(n)d customer imported.", "%(n)d customers imported.", imported) % {"n": imported} }}</p>
% end
<form method="get" action="/customers" class="filters card">
  <label class="field"><span>{{_("Name, company or number")}}</span>
    <input type="search" name="q" value="{{q}}" maxlength="64" id="customer-search"></label>
  <button class="btn" type="submit">{{_("Search")}}</button>
  <a class="btn btn-primary" href="/customers/new">{{_("New customer")}}</a>
  % if may_book:
  <a class="btn" href="/customers/import">{{_("Import CSV")}}</a>
  <a class="btn" href="/api/v1/customers/export.csv">{{_("Export CSV")}}</a>
  % end
</form>
<section class="panel">
  <div class="table-wrap">
    <table class="table" id="customers">
      <thead><tr><th>{{_("Name")}}</th><th>{{_("Phone numbers")}}</th><th>{{_("Company")}}</th>
        <th>{{_("VIP level")}}</th><th>{{_("Dedicated agent")}}</th><th>{{_("Blocked")}}</th></tr></thead>
      <tbody>
      % for card in cards:
        <tr data-key="{{card['id']}}">
          <td><a href="/customers/{{card['id']}}">{{card['name'] or card['id']}}</a></td>
          <td class="mono">{{", ".join(n['display'] for n in card['numbers'])}}</td>
          <td>{{card['company'] or fmt.NONE}}</td>
          <td>{{card['vip'] or fmt.NONE}}</td>
          <td class="mono">{{card['agent_id'] or fmt.NONE}}</td>
          <td>{{_("blocked") if card['blocked'] else fmt.NONE}}</td>
        </tr>
      % end
      </tbody>
    </table>
  </div>
  % if pages > 1:
  <nav class="pager">
    % from urllib.parse import urlencode
    % if page > 1:
    <a href="/customers?{{urlencode({'q': q, 'page': page - 1})}}">{{_("Previous")}}</a>
    % end
    <span>{{_("Page %(page)d of %(pages)d") % {"page": page, "pages": pages} }}</span>
    % if page < pages:
    <a href="/customers?{{urlencode({'q': q, 'page': page + 1})}}">{{_("Next")}}</a>
    % end
  </nav>
  % end
</section>
