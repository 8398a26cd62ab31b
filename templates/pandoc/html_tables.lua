-- Raw HTML reaches nbconvert's Markdown from two places: pandas tables (text/html outputs) and
-- HTML written in Markdown cells (`<p style="...">`). pandoc reads the Markdown with
-- -markdown_in_html_blocks, so each arrives as one raw block, which the Typst writer would drop,
-- text and all. Re-read every such block as HTML: tables become real tables and text survives
-- (its styling does not). Then tidy what pandas' table layout leaves.

local function text_of(cell)
  return pandoc.utils.stringify(cell.contents)
end

-- set_index() makes pandas put the index name on a header row of its own, under the column
-- names and empty elsewhere. Move it up into the empty corner so the header is one row.
local function fold_index_name_row(tbl)
  local rows = tbl.head.rows
  if #rows ~= 2 or #rows[1].cells ~= #rows[2].cells then
    return -- no index name, or column spans (MultiIndex columns): leave as pandas made it
  end
  local top, names = rows[1].cells, rows[2].cells
  for i, cell in ipairs(names) do
    if text_of(cell) ~= "" and text_of(top[i]) ~= "" then
      return
    end
  end
  for i, cell in ipairs(names) do
    if text_of(cell) ~= "" then
      top[i].contents = cell.contents
    end
  end
  tbl.head.rows = { rows[1] }
end

-- playbook/report.py marks the header and cells of a column of figures with the class "num" (one rule
-- for the HTML and the PDF). Numbers are compared down a column: right-align those; text reads from
-- the left (a figure would otherwise centre every line of a long finding).
local function has_class(cell, name)
  for _, class in ipairs(cell.attr.classes) do
    if class == name then
      return true
    end
  end
  return false
end

local function align_number_columns(tbl)
  local numeric = {}
  for _, part in ipairs({ tbl.head.rows, tbl.bodies[1] and tbl.bodies[1].body or {} }) do
    for _, row in ipairs(part) do
      for i, cell in ipairs(row.cells) do
        numeric[i] = numeric[i] or has_class(cell, "num")
      end
    end
  end
  for i = 1, #tbl.colspecs do
    tbl.colspecs[i] = { numeric[i] and pandoc.AlignRight or pandoc.AlignLeft, tbl.colspecs[i][2] }
  end
end

-- A figure (class "num") and a short cell without a space (class "keep": a name, a date, a campaign) go
-- into a box, which the template's column widths (fit-columns in report.typ) never break: "33.3万元",
-- "王医生" and "2024大众点评推广通" stay whole.
local function keep_short_cells_whole(tbl)
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do
      for _, cell in ipairs(row.cells) do
        local whole = has_class(cell, "keep") or has_class(cell, "num")
        if whole and #cell.contents == 1 and cell.contents[1].t == "Plain" then
          local inlines = pandoc.List({ pandoc.RawInline("typst", "#box[") })
          inlines:extend(cell.contents[1].content)
          inlines:insert(pandoc.RawInline("typst", "]"))
          cell.contents = { pandoc.Plain(inlines) }
        end
      end
    end
  end
end

-- A row coloured by its status (the weekly pack's red / yellow / green, [S0]) keeps its colour in the
-- PDF: the row's CSS background becomes each cell's Typst fill, over the zebra stripes; a cell coloured
-- on its own (a week past the method's line in the trend table) keeps its own.
local function background(attr)
  return (attr.attributes.style or ""):match("background%-color:%s*(#%x%x%x%x%x%x)")
end

local function keep_row_fills(tbl)
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do
      local colour = background(row.attr)
      for _, cell in ipairs(row.cells) do
        local fill = background(cell.attr) or colour
        if fill then
          cell.attr.attributes["typst:fill"] = string.format('rgb("%s")', fill)
        end
      end
    end
  end
end

local function raw_block(el)
  if el.format == "html" then
    return pandoc.read(el.text, "html").blocks:walk({
      Table = function(tbl)
        fold_index_name_row(tbl)
        align_number_columns(tbl)
        keep_short_cells_whole(tbl)
        keep_row_fills(tbl)
        return tbl
      end,
    })
  end
end

-- pandoc's Typst writer drops an image's alt text; keep it, so a screen reader can describe the chart.
local function typst_image(el)
  local alt = pandoc.utils.stringify(el.caption)
  if alt == "" then
    return nil
  end
  local quoted = alt:gsub("\\", "\\\\"):gsub('"', '\\"')
  return string.format('image("%s", alt: "%s")', el.src, quoted)
end

local function inline_image(el)
  local image = typst_image(el)
  return image and pandoc.RawInline("typst", "#box(" .. image .. ")")
end

-- A chart alone in its paragraph (every chart of a chapter) is set by report.typ's `chart`, which may
-- draw it a little smaller to keep it on the page it starts on. A chart right under its heading is
-- measured from a mark before the heading, since the heading moves with it; the heading's level and text
-- are passed along (a query for "the heading before here" can keep Typst's layout from converging).
local function chart_of(block)
  if block.t == "Para" and #block.content == 1 and block.content[1].t == "Image" then
    return typst_image(block.content[1])
  end
end

local function set_charts(blocks)
  local out = pandoc.List()
  for _, block in ipairs(blocks) do
    local image = chart_of(block)
    if image then
      local heading = #out > 0 and out[#out].t == "Header" and out[#out] or nil
      local after = "none"
      if heading then
        out:insert(#out, pandoc.RawBlock("typst", "#chart-mark()"))
        local text = pandoc.utils.stringify(heading.content):gsub("\\", "\\\\"):gsub('"', '\\"')
        after = string.format('(level: %d, text: "%s")', heading.level, text)
      end
      out:insert(pandoc.RawBlock("typst", string.format("#chart(%s, after-heading: %s)", image, after)))
    else
      out:insert(block)
    end
  end
  return out
end

-- Charts first (a chart's paragraph still holds its Image), then the other images and the raw HTML.
return {
  { Blocks = set_charts },
  { Image = inline_image, RawBlock = raw_block },
}
