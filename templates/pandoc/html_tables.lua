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

local MISSING = { [""] = true, ["NaN"] = true, ["nan"] = true, ["None"] = true, ["-"] = true, ["—"] = true }

-- 1,250,000  -3.5%  ¥1,200  12.5万: digits with the signs, units and separators sums come with.
local function is_number(s)
  s = s:gsub("^[%+%-]", ""):gsub("^¥", ""):gsub("[,%s]", ""):gsub("%%$", ""):gsub("元$", ""):gsub("万$", "")
  return s:match("^%d+%.?%d*$") ~= nil
end

-- Numbers are compared down a column, so right-align the columns that hold only numbers; text reads
-- from the left (a figure would otherwise centre every line of a long finding).
local function align_number_columns(tbl)
  local ncols = #tbl.colspecs
  local numeric, seen = {}, {}
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do
      if #row.cells ~= ncols then
        return -- row spans (MultiIndex rows): columns cannot be told apart cell by cell
      end
      for i, cell in ipairs(row.cells) do
        local s = text_of(cell)
        if not MISSING[s] then
          seen[i] = true
          numeric[i] = (numeric[i] ~= false) and is_number(s)
        end
      end
    end
  end
  for i = 1, ncols do
    local align = (seen[i] and numeric[i]) and pandoc.AlignRight or pandoc.AlignLeft
    tbl.colspecs[i] = { align, tbl.colspecs[i][2] }
  end
end

function RawBlock(el)
  if el.format == "html" then
    return pandoc.read(el.text, "html").blocks:walk({
      Table = function(tbl)
        fold_index_name_row(tbl)
        align_number_columns(tbl)
        return tbl
      end,
    })
  end
end

-- pandoc's Typst writer drops an image's alt text; keep it, so a screen reader can describe the chart.
function Image(el)
  local alt = pandoc.utils.stringify(el.caption)
  if alt == "" then
    return nil
  end
  local quoted = alt:gsub("\\", "\\\\"):gsub('"', '\\"')
  return pandoc.RawInline("typst", string.format('#box(image("%s", alt: "%s"))', el.src, quoted))
end
