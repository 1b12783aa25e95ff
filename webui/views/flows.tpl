% rebase('layout')
<div class="page-head">
  <h1>{{_("IVR flows")}}</h1>
  <p class="crumbs">{{_("What a caller hears and presses before reaching a queue. Each flow is a file on the box; the running flow is swapped in when it is saved, and calls already in the IVR finish on the one they started.")}}</p>
</div>
<section class="panel">
  <h2>{{_("Flows")}}</h2>
  <div class="table-wrap">
    <table class="table" id="flow-list">
      <thead><tr><th>{{_("Flow")}}</th><th>{{_("State")}}</th><th class="num">{{_("Bytes")}}</th><th>{{_("Changed")}}</th></tr></thead>
      <tbody>
      % for f in flows:
        <tr>
          <td><a href="/flows/{{f['name']}}" class="mono">{{f['name']}}</a></td>
          <td>
            % if f['name'] == running:
            <span class="st st-live">{{_("running")}}</span>
            % end
          </td>
          <td class="num">{{f['bytes']}}</td>
          <td class="nowrap">{{fmt.when(f['modified'])}}</td>
        </tr>
      % end
      % if not flows:
        <tr><td colspan="4" class="muted">{{_("No flow files yet.")}}</td></tr>
      % end
      </tbody>
    </table>
  </div>
</section>
<form class="card new-flow" id="new-flow" method="get" action="/flows">
  <label class="field field-sm"><span>{{_("New flow (its file name)")}}</span>
    <input name="name" pattern="[a-z0-9][a-z0-9_\-]{0,63}" required placeholder="after-hours"></label>
  <button class="btn btn-ghost btn-sm" type="submit">{{_("Create")}}</button>
</form>
