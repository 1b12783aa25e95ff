% rebase('layout')
<div class="page-head">
  <h1>{{_("Backup and restore")}}</h1>
  <p class="crumbs">{{_("One archive holds the box: its records database, its configuration (site, queues, agents, flows, the quality form), the prompts uploaded to it and the scheduled report files, with a manifest that lists each file's SHA-256.")}}</p>
</div>

% if get('error'):
<div class="form-error" role="alert" id="restore-error">{{error}}</div>
% end

<section class="panel">
  <h2>{{_("Download a backup")}}</h2>
  <div class="panel-body stack">
    <p>{{_("The database is copied while the box runs, calls included, as one consistent snapshot: nothing stops or waits.")}}</p>
    <p class="muted">{{_("Recordings are not included: they are the bulk of the box's data and HQ holds every recording it has acknowledged. Include them only for a box that HQ does not pull.")}}
      {{_("This box holds %(mb).1f MB of recordings.") % {'mb': recordings_bytes / 1e6} }}</p>
    <form method="get" action="/api/v1/backup" class="stack" id="backup-form">
      <label class="check">
        % if recordings_allowed:
        <input type="checkbox" name="recordings" value="1">
        % else:
        <input type="checkbox" name="recordings" value="1" disabled>
        % end
        <span>{{_("Include the recordings")}}</span>
      </label>
      % if not recordings_allowed:
      <p class="field-error">{{_("The recordings are larger than the %(gb).0f GiB an archive may carry; back up without them.") % {'gb': recordings_limit / 1024 ** 3} }}</p>
      % end
      <button class="btn btn-primary" type="submit" id="download-backup">{{_("Download backup")}}</button>
    </form>
  </div>
</section>

<section class="panel">
  <h2>{{_("Last backups")}}</h2>
  % if backups:
  <div class="table-wrap">
    <table class="table" id="recent-backups">
      <thead><tr><th>{{_("When")}}</th><th>{{_("By")}}</th><th>{{pgettext("address", "From")}}</th><th>{{_("File")}}</th>
        <th class="num">{{_("Latest change")}}</th><th>{{_("Recordings")}}</th></tr></thead>
      <tbody>
      % for b in backups:
        <tr><td>{{fmt.when(b['at'])}}</td><td>{{b['username'] or ''}}</td><td>{{b['address']}}</td><td>{{b['file']}}</td>
          <td class="num">{{b.get('latest_seq', '')}}</td><td>{{_("yes") if b.get('recordings') else _("no")}}</td></tr>
      % end
      </tbody>
    </table>
  </div>
  % else:
  <p class="panel-body muted">{{_("No backup has been made yet.")}}</p>
  % end
</section>

<section class="panel" id="restore">
  <h2>{{_("Restore")}}</h2>
  <div class="panel-body stack">
  % if staged:
    % m = staged['manifest']
    <div class="notice" role="status" id="restore-staged">
      <p><b>{{_("A restore is staged: %(archive)s, box %(box)s, made %(created)s.") % {'archive': staged['archive'], 'box': m['box_id'], 'created': fmt.when(m['created_at'])} }}</b></p>
      <p>{{_("It is applied when the engine next starts. Restart it with:")}} <code>{{restart}}</code></p>
      % if calls_now is None:
      <p id="calls-now">{{_("The engine does not answer: the restore is applied when it starts.")}}</p>
      % else:
      <p id="calls-now">{{ngettext("%(n)d call is in progress now: it ends with the restart.", "%(n)d calls are in progress now: they end with the restart.", calls_now) % {'n': calls_now} }}</p>
      % end
      <p>{{_("Everything in the database returns to what the archive holds, users and their passwords included. The current database and configuration are kept in the state directory as before-restore-<time>.")}}
      % if 'other_database' in [p['code'] for p in staged['overridden']]:
        {{_("The restored database gets a new identity: HQ must pull this box as a new box (a new box id in the collector's configuration).")}}
      % else:
        {{_("HQ goes on pulling this box as before and gets every row the restore brings back.")}}
      % end
      </p>
    </div>
    % include('backup_manifest', m=m)
    <form method="post" action="/backup/restore/cancel">
      <input type="hidden" name="csrf_token" value="{{csrf}}">
      <button class="btn btn-warn" type="submit" id="cancel-restore">{{_("Cancel the staged restore")}}</button>
    </form>
  % end
  % if refusal:
    % m = refusal.manifest
    <div class="form-error" role="alert" id="restore-refused">
      <p><b>{{_("This archive was not staged.")}}</b></p>
      <ul>
      % for p in refusal.problems:
        <li>{{problem_text(p)}}</li>
      % end
      </ul>
    </div>
    % include('backup_manifest', m=m)
  % end
    <form method="post" action="/backup/restore" enctype="multipart/form-data" class="stack" id="restore-form">
      <input type="hidden" name="csrf_token" value="{{csrf}}">
      <label class="field">
        <span>{{_("Archive to restore")}}</span>
        <input type="file" name="archive" accept=".zip,application/zip" required>
        <span class="hint">{{_("A .zip made by this page or by `branchline backup`, at most %(mb)d MB (a larger one, with recordings, is restored with `branchline restore` on the box). Its manifest and every file's SHA-256 are checked before anything changes.") % {'mb': archive_limit // 10 ** 6} }}</span>
      </label>
      % if refusal and all(p['overridable'] for p in refusal.problems):
      <label class="check">
        <input type="checkbox" name="override" value="1" id="override">
        <span>{{_("I know this archive is the right one: restore it anyway (choose the file again)")}}</span>
      </label>
      % end
      <button class="btn btn-primary" type="submit" id="stage-restore">{{_("Check and stage the restore")}}</button>
    </form>
  % if applied:
    <p class="muted" id="restore-applied">{{_("Last restore: %(archive)s, applied %(when)s; changes continue from %(seq)d (%(rule)s). The database and configuration it replaced are in %(kept)s.") % {'archive': applied['archive'], 'when': fmt.when(applied['applied_at']), 'seq': applied['counter'], 'rule': applied['rule'], 'kept': applied['kept']} }}</p>
  % end
  </div>
</section>
