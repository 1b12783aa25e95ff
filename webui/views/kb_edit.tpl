% rebase('layout', main_class='page')
<div class="page-head">
  <h1>{{title}}</h1>
  <p class="crumbs"><a href="/kb">{{_("Knowledge base")}}</a></p>
</div>
<section class="card form-card">
  % if error:
  <p class="form-error" role="alert">{{error}}</p>
  % end
  <form method="post" action="{{'/kb/%s/edit' % article['id'] if article.get('id') else '/kb/new'}}" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % if article.get('version') is not None:
    <input type="hidden" name="version" value="{{article['version']}}">
    % end
    <label class="field">
      <span>{{_("Title")}}</span>
      <input name="title" value="{{article['title']}}" maxlength="{{max_title}}" required
             class="{{'invalid' if 'title' in problems else ''}}">
      % if 'title' in problems:
      <span class="field-error" role="alert" id="error-title">{{problems['title']}}</span>
      % end
    </label>
    <label class="field">
      <span>{{_("Category")}}</span>
      <input name="category" value="{{article['category']}}" maxlength="{{max_category}}" list="kb-categories"
             class="{{'invalid' if 'category' in problems else ''}}">
      <datalist id="kb-categories">
        % for name in categories:
        <option value="{{name}}">
        % end
      </datalist>
      % if 'category' in problems:
      <span class="field-error" role="alert" id="error-category">{{problems['category']}}</span>
      % end
    </label>
    <label class="field">
      <span>{{_("Tags")}}</span>
      <input name="tags" value="{{article['tags'] if isinstance(article['tags'], str) else ', '.join(article['tags'])}}"
             class="{{'invalid' if 'tags' in problems else ''}}">
      <span class="hint">{{_("Separated by commas, e.g. 退货, invoice.")}}</span>
      % if 'tags' in problems:
      <span class="field-error" role="alert" id="error-tags">{{problems['tags']}}</span>
      % end
    </label>
    <label class="field">
      <span>{{_("Text")}}</span>
      <textarea name="body" rows="18" maxlength="{{max_body}}" required
                class="mono {{'invalid' if 'body' in problems else ''}}">{{article['body']}}</textarea>
      <span class="hint">{{_("Markdown: # headings, **bold**, lists, [links](https://…) and tables. HTML is shown as text.")}}</span>
      % if 'body' in problems:
      <span class="field-error" role="alert" id="error-body">{{problems['body']}}</span>
      % end
    </label>
    <button class="btn btn-primary" type="submit">{{_("Save")}}</button>
  </form>
</section>
