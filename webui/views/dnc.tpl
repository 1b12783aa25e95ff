% rebase('layout', main_class='page')
<div class="page-head">
  <p class="crumbs"><a href="/campaigns">{{_("Campaigns")}}</a></p>
  <h1>{{_("Do-not-call list")}}</h1>
  <p class="muted">{{_("No campaign dials these numbers; their contacts waiting in any campaign are marked “do not call” at once.")}}</p>
</div>
% if error:
<div class="form-error" role="alert" id="dnc-error">{{error}}
  % for what, why in (problem or {}).items():
  <span class="field-error">{{what}}: {{why}}</span>
  % end
</div>
% end
<form method="post" action="/dnc" class="card form-stack" id="dnc-form">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label class="field"><span>{{_("Numbers (one a line, or separated by commas)")}}</span>
    <textarea name="numbers" rows="4" maxlength="20000" required></textarea></label>
  <label class="field"><span>{{_("Reason")}}</span><input type="text" name="reason" maxlength="200"></label>
  <button class="btn btn-primary" type="submit">{{_("Add")}}</button>
</form>
<section class="panel">
  <form method="get" action="/dnc" class="inline-form">
    <label class="field"><span>{{_("Find a number")}}</span><input type="search" name="q" value="{{q}}" maxlength="40"></label>
    <button class="btn btn-ghost" type="submit">{{_("Find")}}</button>
  </form>
  <div class="table-wrap">
    <table class="table" id="dnc-numbers">
      <thead><tr><th>{{_("Number")}}</th><th>{{_("Reason")}}</th><th>{{_("Added by")}}</th><th>{{_("Added")}}</th><th></th></tr></thead>
      <tbody>
      % for n in numbers:
        <tr data-number="{{n['number']}}">
          <td class="mono">{{n['number']}}</td>
          <td>{{n['reason'] or fmt.NONE}}</td>
          <td>{{n['added_by'] or fmt.NONE}}</td>
          <td>{{fmt.when(n['added_at'])}}</td>
          <td><form method="post" action="/dnc/remove" class="inline-form">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <input type="hidden" name="number" value="{{n['number']}}">
            <button class="btn btn-ghost btn-sm" type="submit" aria-label="{{_("Remove %(number)s") % {'number': n['number']} }}">{{_("Remove")}}</button>
          </form></td>
        </tr>
      % end
      </tbody>
    </table>
  </div>
</section>
