"""Fixed reference lists the enterprise profile uses: Shanghai districts, Minhang towns, industry
divisions (GB/T 4754-2017 大类) and the sub-tracks of 闵府规发〔2024〕1号 clauses 1-5.

The key industry tracks themselves, the recognition kinds and the enum values of builtin facts
are the fact catalog's (policies.FactDefinition); see enterprises/catalog.py.
"""

from __future__ import annotations

from policies.i18n import display_lang

MINHANG = "闵行区"
OUTSIDE_SHANGHAI = "外省市"
SHANGHAI_REGION = "310000"  # the region code of 上海市 (fixtures/regions/)

# district name -> administrative division code (positions 3-8 of a 统一社会信用代码)
SHANGHAI_DISTRICTS: dict[str, str] = {
    "黄浦区": "310101",
    "徐汇区": "310104",
    "长宁区": "310105",
    "静安区": "310106",
    "普陀区": "310107",
    "虹口区": "310109",
    "杨浦区": "310110",
    "闵行区": "310112",
    "宝山区": "310113",
    "嘉定区": "310114",
    "浦东新区": "310115",
    "金山区": "310116",
    "松江区": "310117",
    "青浦区": "310118",
    "奉贤区": "310120",
    "崇明区": "310151",
}
DISTRICT_CHOICES = [(name, name) for name in SHANGHAI_DISTRICTS] + [(OUTSIDE_SHANGHAI, OUTSIDE_SHANGHAI)]

MINHANG_TOWNS = [
    "江川路街道",
    "古美路街道",
    "新虹街道",
    "浦锦街道",
    "莘庄镇",
    "七宝镇",
    "颛桥镇",
    "华漕镇",
    "虹桥镇",
    "梅陇镇",
    "吴泾镇",
    "马桥镇",
    "浦江镇",
    "莘庄工业区",
]

# GB/T 4754-2017 divisions (大类). Manufacturing is section C, divisions 13-43.
INDUSTRY_DIVISIONS: dict[str, str] = {
    "01": "农业", "02": "林业", "03": "畜牧业", "04": "渔业", "05": "农、林、牧、渔专业及辅助性活动",
    "06": "煤炭开采和洗选业", "07": "石油和天然气开采业", "08": "黑色金属矿采选业", "09": "有色金属矿采选业",
    "10": "非金属矿采选业", "11": "开采专业及辅助性活动", "12": "其他采矿业",
    "13": "农副食品加工业", "14": "食品制造业", "15": "酒、饮料和精制茶制造业", "16": "烟草制品业",
    "17": "纺织业", "18": "纺织服装、服饰业", "19": "皮革、毛皮、羽毛及其制品和制鞋业",
    "20": "木材加工和木、竹、藤、棕、草制品业", "21": "家具制造业", "22": "造纸和纸制品业",
    "23": "印刷和记录媒介复制业", "24": "文教、工美、体育和娱乐用品制造业", "25": "石油、煤炭及其他燃料加工业",
    "26": "化学原料和化学制品制造业", "27": "医药制造业", "28": "化学纤维制造业", "29": "橡胶和塑料制品业",
    "30": "非金属矿物制品业", "31": "黑色金属冶炼和压延加工业", "32": "有色金属冶炼和压延加工业",
    "33": "金属制品业", "34": "通用设备制造业", "35": "专用设备制造业", "36": "汽车制造业",
    "37": "铁路、船舶、航空航天和其他运输设备制造业", "38": "电气机械和器材制造业",
    "39": "计算机、通信和其他电子设备制造业", "40": "仪器仪表制造业", "41": "其他制造业",
    "42": "废弃资源综合利用业", "43": "金属制品、机械和设备修理业",
    "44": "电力、热力生产和供应业", "45": "燃气生产和供应业", "46": "水的生产和供应业",
    "47": "房屋建筑业", "48": "土木工程建筑业", "49": "建筑安装业", "50": "建筑装饰、装修和其他建筑业",
    "51": "批发业", "52": "零售业", "53": "铁路运输业", "54": "道路运输业", "55": "水上运输业",
    "56": "航空运输业", "57": "管道运输业", "58": "多式联运和运输代理业", "59": "装卸搬运和仓储业",
    "60": "邮政业", "61": "住宿业", "62": "餐饮业", "63": "电信、广播电视和卫星传输服务",
    "64": "互联网和相关服务", "65": "软件和信息技术服务业", "66": "货币金融服务", "67": "资本市场服务",
    "68": "保险业", "69": "其他金融业", "70": "房地产业", "71": "租赁业", "72": "商务服务业",
    "73": "研究和试验发展", "74": "专业技术服务业", "75": "科技推广和应用服务业", "76": "水利管理业",
    "77": "生态保护和环境治理业", "78": "公共设施管理业", "79": "土地管理业", "80": "居民服务业",
    "81": "机动车、电子产品和日用产品修理业", "82": "其他服务业", "83": "教育", "84": "卫生",
    "85": "社会工作", "86": "新闻和出版业", "87": "广播、电视、电影和录音制作业", "88": "文化艺术业",
    "89": "体育", "90": "娱乐业", "91": "中国共产党机关", "92": "国家机构", "93": "人民政协、民主党派",
    "94": "社会保障", "95": "群众团体、社会团体和其他成员组织", "96": "基层群众自治组织及其他组织",
    "97": "国际组织",
}  # fmt: skip
MANUFACTURING_DIVISIONS = frozenset(f"{n:02d}" for n in range(13, 44))


def is_manufacturing_code(industry_code: str) -> bool:
    return industry_code[:2] in MANUFACTURING_DIVISIONS


# track -> [(sub-track value, 中文名)] as listed in 闵府规发〔2024〕1号 clauses 1-5.
INDUSTRY_SUBTRACKS: dict[str, list[tuple[str, str]]] = {
    "high_end_equipment": [
        ("commercial_aerospace", "商业航天"),
        ("aero_engine", "大飞机航空发动机"),
        ("airborne_systems", "大飞机机载系统"),
        ("marine_equipment", "船舶装备"),
        ("machine_tools", "工业母机"),
        ("energy_equipment", "能源装备"),
        ("special_equipment", "特种装备"),
        ("instruments_testing", "仪表仪器及智能检测"),
        ("energy_saving_equipment", "节能环保装备"),
        ("high_performance_materials", "高性能材料"),
    ],
    "new_gen_it": [
        ("comm_chips_devices", "通信芯片与器件"),
        ("electronic_terminals", "电子终端"),
        ("smart_sensors", "智能传感器"),
        ("satellite_comm", "卫星通信"),
        ("industrial_internet", "工业互联网"),
        ("industrial_software", "工业软件"),
        ("cybersecurity", "网络安全"),
        ("cloud_computing", "云计算"),
    ],
    "biomedicine": [
        ("synthetic_biology", "合成生物"),
        ("gene_cell_therapy", "基因和细胞治疗"),
        ("mrna_vaccines", "信使核糖核酸（mRNA）疫苗"),
        ("nucleic_acid_drugs", "核酸药物"),
        ("antibody_drugs", "抗体药物"),
        ("pharma_equipment", "高端制药装备"),
        ("medical_imaging", "高端医疗影像设备"),
        ("ivd_reagents", "体外诊断试剂"),
        ("medical_robots", "医用机器人"),
        ("rehabilitation_devices", "康复器械"),
    ],
    "artificial_intelligence": [
        ("gpu_chips", "通用图形处理器芯片"),
        ("neuromorphic_chips", "类脑神经元计算芯片"),
        ("compute_in_memory_chips", "存算一体芯片"),
        ("foundation_models", "通用大模型"),
        ("industrial_robots", "工业机器人"),
        ("service_robots", "服务机器人"),
        ("collaborative_robots", "协作机器人"),
        ("humanoid_robots", "人形机器人"),
    ],
    "new_tracks_future": [
        ("green_low_carbon", "绿色低碳"),
        ("metaverse", "元宇宙"),
        ("smart_terminals", "智能终端"),
        ("hydrogen", "氢能"),
        ("photovoltaics", "光伏"),
        ("blockchain", "区块链"),
        ("big_data", "大数据"),
        ("smart_wearables", "智能穿戴"),
        ("brain_computer_interface", "脑机接口"),
        ("quantum", "量子科技"),
        ("advanced_nuclear", "先进核能"),
        ("new_energy_storage", "新型储能"),
        ("aerospace_information", "空天信息"),
        ("low_altitude_economy", "低空经济"),
    ],
}
SUBTRACK_LABELS: dict[str, str] = {
    value: label for subtracks in INDUSTRY_SUBTRACKS.values() for value, label in subtracks
}

# English names of the sub-tracks, shown when English is active (the Chinese names are the texts').
SUBTRACK_LABELS_EN: dict[str, str] = {
    "commercial_aerospace": "Commercial aerospace",
    "aero_engine": "Large-aircraft engines",
    "airborne_systems": "Large-aircraft airborne systems",
    "marine_equipment": "Marine equipment",
    "machine_tools": "Machine tools",
    "energy_equipment": "Energy equipment",
    "special_equipment": "Special equipment",
    "instruments_testing": "Instruments and intelligent testing",
    "energy_saving_equipment": "Energy-saving and environmental equipment",
    "high_performance_materials": "High-performance materials",
    "comm_chips_devices": "Communication chips and devices",
    "electronic_terminals": "Electronic terminals",
    "smart_sensors": "Smart sensors",
    "satellite_comm": "Satellite communication",
    "industrial_internet": "Industrial internet",
    "industrial_software": "Industrial software",
    "cybersecurity": "Cybersecurity",
    "cloud_computing": "Cloud computing",
    "synthetic_biology": "Synthetic biology",
    "gene_cell_therapy": "Gene and cell therapy",
    "mrna_vaccines": "mRNA vaccines",
    "nucleic_acid_drugs": "Nucleic-acid drugs",
    "antibody_drugs": "Antibody drugs",
    "pharma_equipment": "High-end pharmaceutical equipment",
    "medical_imaging": "High-end medical imaging equipment",
    "ivd_reagents": "In-vitro diagnostic reagents",
    "medical_robots": "Medical robots",
    "rehabilitation_devices": "Rehabilitation devices",
    "gpu_chips": "General-purpose GPU chips",
    "neuromorphic_chips": "Neuromorphic computing chips",
    "compute_in_memory_chips": "Compute-in-memory chips",
    "foundation_models": "General-purpose foundation models",
    "industrial_robots": "Industrial robots",
    "service_robots": "Service robots",
    "collaborative_robots": "Collaborative robots",
    "humanoid_robots": "Humanoid robots",
    "green_low_carbon": "Green and low-carbon",
    "metaverse": "Metaverse",
    "smart_terminals": "Smart terminals",
    "hydrogen": "Hydrogen energy",
    "photovoltaics": "Photovoltaics",
    "blockchain": "Blockchain",
    "big_data": "Big data",
    "smart_wearables": "Smart wearables",
    "brain_computer_interface": "Brain-computer interfaces",
    "quantum": "Quantum technology",
    "advanced_nuclear": "Advanced nuclear energy",
    "new_energy_storage": "New energy storage",
    "aerospace_information": "Aerospace information",
    "low_altitude_economy": "Low-altitude economy",
}


def subtrack_labels() -> dict[str, str]:
    """Sub-track code -> name in the reader's language."""
    if display_lang() == "en":
        return {value: SUBTRACK_LABELS_EN.get(value, label) for value, label in SUBTRACK_LABELS.items()}
    return SUBTRACK_LABELS
