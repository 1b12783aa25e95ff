% rebase('layout', main_class='page page-wide')
<div id="certificate-page"
     data-msg-self-signed="{{_("Self-signed (made by this box)")}}"
     data-msg-signed-by="{{_("Signed by %(issuer)s")}}"
     data-msg-saved="{{_("Certificate installed: new HTTPS connections use it now. Give head office its new fingerprint.")}}"
     data-msg-read-failed="{{_("The file could not be read.")}}"
     data-msg-unreachable="{{_("The web server is not answering.")}}">
  <div class="page-head">
    <h1>{{_("HTTPS certificate")}}</h1>
    <p class="crumbs">{{_("Browsers on the branch's network and head office reach this box over HTTPS with this certificate, so that passwords and records never cross the network in clear. The box made a self-signed one at its first start; an administrator may install one signed by the company's own authority instead.")}}</p>
  </div>
  <p id="page-error" class="form-error" role="alert" hidden></p>

  <section class="panel">
    <h2>{{_("In use")}}</h2>
    % if info:
    % issuer = _("Self-signed (made by this box)") if info["self_signed"] else _("Signed by %(issuer)s") % {"issuer": info["issuer"]}
    % else:
    <p id="no-certificate">{{_("No certificate yet: the box makes a self-signed one the first time it serves HTTPS.")}}</p>
    % end
    <dl class="kv" id="current" {{'' if info else 'hidden'}}>
      <dt>{{_("Subject")}}</dt><dd id="cert-subject" class="mono">{{info["subject"] if info else ""}}</dd>
      <dt>{{_("Issuer")}}</dt><dd id="cert-issuer">{{issuer if info else ""}}</dd>
      <dt>{{_("Valid from")}}</dt><dd id="cert-from">{{fmt.when(info["not_before"]) if info else ""}}</dd>
      <dt>{{_("Valid until")}}</dt><dd id="cert-until">{{fmt.when(info["not_after"]) if info else ""}}</dd>
      <dt>{{_("SHA-256 fingerprint")}}</dt><dd id="cert-fingerprint" class="mono">{{info["fingerprint_sha256"] if info else ""}}</dd>
    </dl>
    <p class="muted">{{_("Head office pins this fingerprint (the fingerprint setting of the box in its hq.toml): after installing a new certificate, give it the new one.")}}</p>
  </section>

  <section class="panel">
    <h2>{{_("Install a certificate")}}</h2>
    <form id="upload-certificate" class="stack" novalidate>
      <label class="field">
        <span>{{_("Certificate (PEM; the intermediate certificates after it)")}}</span>
        <input type="file" id="certificate-file" accept=".pem,.crt,.cer">
        <textarea name="certificate" id="certificate-text" rows="6" class="mono" spellcheck="false"
                  placeholder="-----BEGIN CERTIFICATE-----"></textarea>
      </label>
      <label class="field">
        <span>{{_("Private key (PEM, without a passphrase)")}}</span>
        <input type="file" id="key-file" accept=".pem,.key">
        <textarea name="key" id="key-text" rows="6" class="mono" spellcheck="false" autocomplete="off"
                  placeholder="-----BEGIN PRIVATE KEY-----"></textarea>
      </label>
      <div><button class="btn btn-primary" type="submit">{{_("Check and install")}}</button></div>
      <p id="upload-result" class="notice" role="status" hidden></p>
    </form>
  </section>
</div>
