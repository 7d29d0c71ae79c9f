"""Payloads that change little during a run: JsGlobals, farm registration, menu and comparison fields.

They carry the keys a scraper reads (user, unit settings and signs, gateway, sentinels, enums) and a small
subset of the real portal's thousands of UI strings.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from simulator.config import FarmConfig
from simulator.render import COMPARISON_TABLE, CONTROLLER_TYPE_INFO, iso_instant
from simulator.units import UnitRenderer

ENUMS: dict[str, dict[str, int]] = {
    "eRNBLResult": {"API_NULL_RESULT": 0, "API_ACCESS_DENIED": 5, "API_ERROR": 10, "API_SUCCESS": 20},
    "eHouseMode": {
        "FULL_HOUSE": 0,
        "FIRST_BROOD": 1,
        "SECOND_BROOD": 2,
        "THIRD_BROOD": 3,
        "EMPTY_HOUSE": 4,
        "FULL_ROOM": 5,
        "EMPTY_ROOM": 6,
        "CATCHING": 7,
    },
    "eSirenStatus": {"SIREN_OFF": 0, "SIREN_ON": 1, "SIREN_MUTED": 2},
    "eTemperatureSensorsIcon": {
        "None": 0,
        "eInsideIcon": 1,
        "eOutsideIcon": 2,
        "eAtticIcon": 3,
        "eEmergencyIcon": 4,
        "eCircuitBreakerIcon": 5,
        "eWindChillIcon": 6,
        "eTunnelIcon": 7,
        "eEggRoomIcon": 8,
    },
    "eVentilationMode": {"MIN_VENT_MODE": 1, "TUNNEL_MODE": 2, "NATURAL_MODE": 4},
    "eHouseType": {"Birds": 0, "Pigs": 1, "Irrigation": 2, "TrioComm": 3},
    "eConnectionStatus": {"Offline": 0, "Connected": 1, "Disconnected": 2, "Unknown": 3},
    "eTempUnits": {"Celsius": 0, "Fahrenheit": 1},
    "eWeightUnits": {"Kg": 0, "Lb": 1},
    "ePressureUnits": {
        "MILIBAR": 0,
        "INWC": 1,
        "PASCAL": 2,
        "CMWC": 3,
        "MMWC": 4,
        "BAR": 5,
        "PSI": 6,
        "NONE": 7,
    },
    "eCapacityUnits": {"m3h": 0, "CFM": 1},
    "eLengthUnits": {"METERIC": 0, "NON_METRIC": 1},
    "eVolumeFluidUnits": {"Litter": 0, "Gallon": 1},
    "eSpeedUnits": {"KM_H": 0, "MILE_H": 1, "M_SEC": 2, "FEET_SEC": 3, "FEET_MIN": 4},
    "eRainUnits": {"MM": 0, "INCH": 1},
    "eCheckLoginResultCode": {"LoginOk": 0, "LoginFailed": 1, "GatewayNotActivated": 2, "UserSuspended": 3},
    "eHouseControllerType": {
        "NONE": 0,
        "ALL": 1,
        "PLATINUM": 2,
        "PIGS": 3,
        "AC2000": 4,
        "ELEMENT": 5,
        "SUPERGUARD": 6,
        "RFS6": 7,
        "RSW2": 8,
        "SMART": 9,
        "VIRTUAL": 10,
        "PLATINUM_PIGS": 11,
        "COMMUNICATOR": 12,
        "IRRIGATION": 13,
    },
    "eHouseControllerModel": {"NONE": 0, "ALL": 1, "BROILER": 2, "BREEDER": 3, "LAYERS": 4},
    "eHouseControllerMode": {"NONE": 0, "ALL": 1, "STANDARD": 2, "PRECISION": 3, "PIGS": 4},
}

LANGUAGE_VALUES = {
    "LangKey_On": "On",
    "LangKey_Off": "Off",
    "LangKey_NextOff": "On In",
    "LangKey_NextOn": "Off In",
    "LangKey_NA": "N/A",
    "LangKey_Auto": "Auto",
    "AP_TempUnits_Celsius_Sign": "C°",
    "AP_TempUnits_Fahrenheit_Sign": "F°",
    "AP_WeightUnits_Kg_Sign": "KG",
    "AP_WeightUnits_Lb_Sign": "LB",
    "AP_PressureUnits_PASCAL_Sign": "Pa",
    "AP_PressureUnits_INWC_Sign": "IN.W.C",
    "AP_CapacityUnits_m3h_Sign": "M3/H",
    "AP_CapacityUnits_CFM_Sign": "CFM",
    "AP_VolumeFluidUnits_Litter_Sign": "LT",
    "AP_VolumeFluidUnits_Gallon_Sign": "GL",
    "Alarm_List_1": "Low Temperature",
    "Alarm_List_2": "High Temperature",
    "Alarm_List_31": "Low Pressure",
    "Alarm_List_32": "High Pressure",
    "Alarm_List_102": "Water {0} Shortage",
    "Alarm_List_103": "Water {0} Leak",
    "Alarm_List_111": "Temp. Sensor {0} Shorted",
    "Alarm_List_112": "Temp. Sensor {0} Opened",
    "Alarm_List_125": "Out Temp. Sensor Shorted",
    "Alarm_List_126": "Out Temp. Sensor Opened",
    "Alarm_List_165": "Power Failure",
    "Alarm_List_173": "Lost Com To Controller {0}",
    "Alarm_List_239": "Burner Recovery Failure",
}


def gateway_code(farm: FarmConfig) -> str:
    """Return the farm's gateway code, the GatewayName of the login payload."""
    return f"sim-{farm.farm_id}"


def user_info(farm: FarmConfig, user_token: str, login_time: datetime) -> dict[str, Any]:
    """Return UserInfo (also served as the login's FarmUser) with the account's units and signs."""
    units = UnitRenderer(farm.units)
    return {
        "ID": 10000 + farm.host_number * 100 + len(farm.farm_id),
        "UserName": farm.username,
        "DisplayName": farm.display_name or farm.farm_id,
        "FriendlyToken": f"friendly-{farm.farm_id}",
        "UserToken": user_token,
        "RefreshToken": f"refresh-{user_token[:8]}",
        "IsFarmAdmin": True,
        "IsConnectedGatewayAdmin": False,
        "IsActive": True,
        "LastLoginDT": iso_instant(login_time),
        "LastAccessDT": iso_instant(login_time),
        "GatewayName": None,
        "ClientLanguageIndex": 0,
        "Language": "ENGLISH",
        "PhoneNumber": None,
        "EmailAddress": farm.username,
        "IsMarkedForRemove": False,
        "UnitConverterSettings": units.converter_settings(),
        "DicUintsSigns": units.signs(),
        "IsFeedStandByActive": False,
        "FeedStandByIntervalInMinutes": 5,
        "LstPendingInvitations": [],
        "LstContacts": [],
    }


def gateway_info(farm: FarmConfig, web_server_url: str, now: datetime, connected: bool) -> dict[str, Any]:
    """Return GatewayInfo with the account's single gateway."""
    code = gateway_code(farm)
    return {
        "GatewayToken": f"gw-token-{farm.farm_id}",
        "GatewayName": code,
        "GatewayAliasName": farm.display_name or farm.farm_id,
        "GatewayVersion": "4.6.0.37",
        "RNBLVersion": "4.6.0.37",
        "UPDVersion": "1.50.8.46037",
        "Baudrate": 9600,
        "ComPort": "COM1",
        "IsActivated": True,
        "IsConnected": connected,
        "IsHouseScanActivated": True,
        "GeneralSettingsStr": '{"FarmCode":"","DataProviderID":"0","DataProviderName":"",'
        '"IsAcceptedDataProviderLicense":"False","IntegratorID":"20","DealerID":"3"}',
        "GatewayInternetConnection": 2 if connected else 1,
        "LstAccounts": [
            {
                "AccountID": 20000 + farm.host_number,
                "AccountName": farm.display_name or farm.farm_id,
                "LstGateways": [
                    {
                        "ID": 30000 + farm.host_number,
                        "GatewayCode": code,
                        "GatewayAliasName": farm.display_name or farm.farm_id,
                        "AlarmsCnt": 0,
                        "LastConnectedDT": iso_instant(now - timedelta(days=40)),
                        "LastDisconnectedDT": None if connected else iso_instant(now),
                        "IsActive": True,
                        "IsConnectedToWeb": connected,
                        "HousesCount": farm.houses,
                        "IsConnected": connected,
                    }
                ],
                "IsAdmin": True,
                "IsActive": True,
            }
        ],
        "RegionCode": "USA",
        "RegionUrl": web_server_url,
        "WebServerUrl": web_server_url,
        "DicHousesToScan": {str(n): f"House {n}" for n in range(1, farm.houses + 1)},
        "IsDataCollectEnabled": True,
    }


def js_globals(farm: FarmConfig, user_token: str, web_server_url: str, now: datetime) -> dict[str, Any]:
    """Return JsGlobals_GetJsGlobals's reponseObj."""
    return {
        "RegionASIAUrl": "https://rotemnetweb.asia/latest",
        "CompanyLogoUrl": "/img/munters_logo_blue.png",
        "IsPrivateNetwork": False,
        "UIVersion": "4.5.0.9",
        "RegionUSAUrl": "https://rotemnetweb.com/latest",
        "RegionCode": "USA",
        "AppVersion": "4.7.5.7",
        **ENUMS,
        "DashboardRefreshIntervalInMs": 10000,
        "RuntimeMode": 3,
        "GatewayInfoExt": {},
        "GatewayInfo": gateway_info(farm, web_server_url, now, connected=True),
        "UserInfoExt": {"IsConnectedGatewayAdmin": True},
        "UserInfo": user_info(farm, user_token, now),
        "LanguageDisplayValues": dict(LANGUAGE_VALUES),
        "DicUnitSigns": {},
        "DicChartTypeCommandMapping": {
            "DailyFeed": "24",
            "DailyFCR": "18",
            "Temperature": "6",
            "Humidity": "36",
            "Silo": "41",
            "Mortality": "42",
            "CO2": "37",
            "DailyWater": "40",
            "Heaters": "108",
            "AvgBirdsWeight": "38",
            "VentLevel": "65",
            "Pressure": "15",
        },
        "IsPigsGateway": False,
        "C_IgnoredValue": "-9999",
        "C_NotApplicableValue": "-8888",
        "IsGatewayActivated": True,
        "WebServerURL": web_server_url,
        "LatestWebServerURLSuffix": "Latest",
        "IsUserLoggedIn": True,
        "MaxComparisonItemsToShow": 40,
    }


def farm_registration(farm: FarmConfig) -> dict[str, Any]:
    """Return GetFarmRegistration's reponseObj."""
    return {
        "IsValid": True,
        "ErrorMessage": None,
        "GeneralFarmSettings": None,
        "FarmRegistration": {
            "GatewayCode": gateway_code(farm),
            "FarmCode": "",
            "GatewayAliasName": farm.display_name or farm.farm_id,
            "Street": "1 Farm Road",
            "CityState": "Springdale, AR",
            "CountryID": 1,
            "ZipCode": "72762",
            "IntegratorID": 20,
            "CustomIntegratorName": "",
            "SegmentID": 1,
            "IsFarmRegistered": True,
            "FarmRegisterationSkipCounter": 0,
            "DtIntegrators": [
                {"ID": 0, "IntegratorName": "None"},
                {"ID": 1, "IntegratorName": "Other"},
                {"ID": 20, "IntegratorName": "PILGRIM'S"},
            ],
            "DtCountries": [{"ID": 1, "CountryName": "United States"}],
            "DtSegments": [
                {"ID": 1, "SegmentName": "Poultry"},
                {"ID": 2, "SegmentName": "Swine"},
                {"ID": 3, "SegmentName": "Others"},
            ],
        },
    }


_MENU: tuple[tuple[int, str, int, int, bool], ...] = (
    (1, "PP_MainMenu_Control", 0, 1, False),
    (6, "PP_MainMenu_TemperatureCurve", 1, 1, False),
    (7, "PP_MainMenu_MinMaxLevel", 1, 2, False),
    (12, "PP_MainMenu_HumidityTreatment", 1, 3, False),
    (15, "PP_MainMenu_StaticPressure", 1, 6, False),
    (16, "PP_MainMenu_CoolPad", 1, 7, False),
    (18, "PP_MainMenu_WaterAndFeed", 1, 9, False),
    (19, "PP_MainMenu_Light", 1, 10, False),
    (2, "PP_MainMenu_Managment", 0, 2, False),
    (23, "PP_MainMenu_BirdInventory", 2, 1, False),
    (25, "PP_MainMenu_GrowthDayAndFlock", 2, 3, False),
    (26, "PP_MainMenu_AlarmSettings", 2, 4, False),
    (3, "PP_MainMenu_History", 0, 3, False),
    (35, "PP_MainMenu_HistoryTemperature", 3, 1, True),
    (79, "Last 24 Hours Temperature", 3, 1, False),
    (36, "PP_MainMenu_HistoryHumidity", 3, 2, True),
    (37, "PP_MainMenu_CO2", 3, 3, True),
    (38, "PP_MainMenu_BirdWeight", 3, 4, True),
    (39, "PP_MainMenu_FeedConversion", 3, 5, True),
    (40, "PP_MainMenu_HistoryWater", 3, 7, True),
    (41, "PP_MainMenu_HistoryFeed", 3, 8, True),
    (42, "PP_MainMenu_HistoryMortality", 3, 9, True),
    (43, "PP_MainMenu_HistoryHeaters", 3, 10, True),
    (45, "PP_MainMenu_HistoryAlarms", 3, 13, True),
    (46, "PP_MainMenu_HistoryEvents", 3, 14, True),
    (4, "PP_MainMenu_TestAndCalibration", 0, 4, False),
    (49, "PP_MainMenu_AnalogSensors", 4, 1, False),
    (5, "PP_MainMenu_System", 0, 5, False),
    (64, "PP_MainMenu_TimeAndDate", 5, 4, False),
    (65, "PP_MainMenu_LevelsOfVentilation", 5, 5, False),
    (74, "PP_MainMenu_FanAirCapacity", 5, 14, False),
    (108, "Version", 5, 21, False),
    (100, "PP_MainMenu_Hotkeys", 0, 6, False),
    (101, "HK_CurveHeader", 100, 1, False),
    (141, "HK_WaterMeters", 100, 7, False),
)


def _menu_node(
    menu_id: int, name: str, parent: int, parent_name: str | None, order: int, history: bool
) -> dict[str, Any]:
    return {
        "ID": menu_id,
        "MenuName": name,
        "MenuParentID": parent,
        "MenuParentName": parent_name,
        "MenuMultiLanguageNames": [],
        "listCommandID": [],
        "SubMenus": [],
        "SortOrder": order,
        "strIconID": "",
        "URL": "",
        "lsMenuCss": [""],
        "m_objPage": None,
        "m_objSetPointPage": None,
        "CacheAvailability": False,
        "IsHistoryTable": history,
        "AffectedMenus": None,
        "DependentTable": None,
        "IsBackToMainScreenAfterSPSave": False,
        "IsSendToAll": True,
        "TableRefreshRate": 2 if parent == 100 else 0,
        "DynamicListsTable": None,
        "RowsFilter": None,
    }


def house_menu() -> dict[str, Any]:
    """Return GetHouseData's reponseObj: the controller menu whose IDs are the CommandIDs."""
    root = _menu_node(0, "MainMenu", 0, None, 0, False)
    nodes = {0: root}
    for menu_id, name, parent, order, history in _MENU:
        parent_name = "Main Menu" if parent == 0 else nodes[parent]["MenuName"]
        node = _menu_node(menu_id, name, parent, parent_name, order, history)
        nodes[parent]["SubMenus"].append(node)
        nodes[menu_id] = node
    return {
        "Menu": root,
        "DicSupportedLanguages": {
            "1": {
                "LanguageIndex": 1,
                "LanguageName": "ENGLISH",
                "DisplayText": "English",
                "IsRightToLeft": False,
            }
        },
        "LstControllerUsers": None,
        "HouseControllerTypeInfo": dict(CONTROLLER_TYPE_INFO),
        "TouchLanguageName": None,
    }


def comparison_display_fields() -> list[dict[str, Any]]:
    """Return GetComparisonDisplayFields's reponseObj: one entry per comparison category."""
    return [
        {
            "FieldName": category,
            "TableName": "General",
            "DisplayFieldName": category,
            "DisplayGroupName": "First",
            "DisplayTemplateName": "",
            "IsSelected": "TRUE",
            "IsEditable": "FALSE",
            "CaptionLanguageKey": caption,
        }
        for category, caption, _getter in COMPARISON_TABLE
    ]
